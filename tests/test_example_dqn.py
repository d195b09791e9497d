"""The dqn worked example (examples/dqn): the clean harness draws no warning from any quick tool at
its defaults, its hand-worked pieces match, each planted bug they cover mismatches, and the
session reproduces the paper's qualitative result."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import call, codes, example_client
from example_family import QUICK_TOOLS, cases, clean_at_defaults, flagged, known_value, session_verdict

# A worked paper: its own server and worker, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

H = "dqn.py"
CASES = cases("dqn")


@pytest.fixture(scope="module")
async def family(tmp_path_factory) -> AsyncIterator:
    async with example_client(tmp_path_factory, "dqn", timeout_s=300) as client:
        yield client


@pytest.mark.parametrize("tool", QUICK_TOOLS)
async def test_clean_harness_draws_no_warning_at_defaults(family, tool):
    await clean_at_defaults(family, H, tool)


@pytest.mark.parametrize("function", list(CASES.KNOWN))
async def test_clean_pieces_give_the_hand_worked_values(family, function):
    await known_value(family, H, function, CASES.KNOWN[function], matches=True)


@pytest.mark.parametrize("bug, function", list(CASES.BUGS.items()))
async def test_planted_bug_fails_its_known_value(family, bug, function):
    await known_value(family, bug, function, CASES.KNOWN[function], matches=False)


async def test_epsilon_stuck_is_flagged_by_run_overfit_test(family):
    found = await flagged(family, "bug_epsilon_stuck.py", "run_overfit_test", "schedule_constant")
    assert found["evidence"]["metric"] == "epsilon" and found["evidence"]["value"] == 1.0
    assert "uniformly at random" in found["message"]


@pytest.mark.slow
def test_session_reproduces(tmp_path):
    assert session_verdict("dqn", steps=2000, tmp=tmp_path) == "reproduced: yes"


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
