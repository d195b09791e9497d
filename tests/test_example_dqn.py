"""The dqn worked example (examples/dqn): the mechanism findings its planted bugs draw. What every
worked example shows (no warning on the clean harness, hand-worked values, the session) is in
tests/test_example_families.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import call, codes, example_client
from example_family import flagged

# A worked paper: its own server and worker, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

H = "dqn.py"


@pytest.fixture(scope="module")
async def family(tmp_path_factory) -> AsyncIterator:
    async with example_client(tmp_path_factory, "dqn", timeout_s=300) as client:
        yield client


async def test_epsilon_stuck_is_flagged_by_run_overfit_test(family):
    found = await flagged(family, "bug_epsilon_stuck.py", "run_overfit_test", "schedule_constant")
    assert found["evidence"]["metric"] == "epsilon" and found["evidence"]["value"] == 1.0
    assert "uniformly at random" in found["message"]


@pytest.mark.parametrize(
    "bug, code",
    [
        ("bug_target_not_detached.py", "gradient_through_target"),
        ("bug_no_terminal_mask.py", "unused_batch_key"),
        ("bug_wrong_action_index.py", "unused_batch_key"),
        ("bug_gamma_one.py", "undiscounted_target"),
    ],
)
async def test_check_dependencies_names_the_mechanism_of_the_twin(family, bug, code):
    result = await call(family, "check_dependencies", {"harness": bug})
    assert code in codes(result), result["summary"]
    assert any(word in result["summary"] for word in ("next_states", "terminal", "actions", "Q-value")), result[
        "summary"
    ]


async def test_overfit_memorises_fixed_transitions_of_a_replay_agent(family):
    """get_train_batch acts with the model, but the batch holds transitions: off-policy, judged on its TD loss."""
    result = await call(family, "run_overfit_test", {"harness": H})
    assert result["details"]["on_policy"] is False, result["summary"]
    assert all(size["reached_target"] for size in result["details"]["sizes"]), result["summary"]
