"""The RL worked example (examples/rl): the clean REINFORCE harness passes every tool that applies,
and each planted bug is caught by the tool the tips name."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest
from conftest import assert_clean, call, codes, example_client

# A worked paper: its own server and worker, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

H = "reinforce.py"
LOG_LOW = math.log(1 / (1 + math.e))  # log-softmax of the lower of two logits one apart
KNOWN = {
    "discounted_returns": {"args": [[1, 1, 1, 1, 1], 0.5], "expected": [1.9375, 1.875, 1.75, 1.5, 1.0]},
    "chosen_log_probs": {"args": [[[1.0, 0.0], [0.0, 1.0]], [1, 0]], "expected": [LOG_LOW, LOG_LOW]},
    "surrogate_loss": {"args": [[-0.5, -1.0], [1.0, -2.0]], "expected": -0.75},
}
BUGS = {
    "bug_forward_returns.py": "discounted_returns",
    "bug_wrong_actions.py": "chosen_log_probs",
    "bug_pg_sign.py": "surrogate_loss",
}


@pytest.fixture(scope="module")
async def rl(tmp_path_factory) -> AsyncIterator:
    async with example_client(tmp_path_factory, "rl", timeout_s=120) as client:
        yield client


async def wait(client, run_id: str) -> dict:
    for _ in range(30):
        result = await call(client, "training_status", {"run_id": run_id, "wait_s": 10})
        if result["details"]["status"] not in ("queued", "running"):
            return result
    raise AssertionError(f"run {run_id} did not finish")


@pytest.mark.parametrize(
    "tool, args",
    [
        ("inspect_data", {"batch_size": 16}),
        ("inspect_model", {"batch_size": 16}),
        ("check_initialization", {"batch_size": 16}),
        ("gradient_check", {"batch_size": 16}),
        ("check_dependencies", {"mode": "batch", "batch_size": 8}),
        ("run_overfit_test", {"sizes": [4, 16], "steps": 100, "lr": 1e-2}),
    ],
)
async def test_clean_harness_passes_the_scaffold_and_gauntlet(rl, tool, args):
    assert_clean(await call(rl, tool, {"harness": H, **args}))


async def test_clean_harness_passes_an_lr_grid_judged_on_its_objective(rl):
    # A range test cannot judge an on-policy surrogate (lr_sweep says so); a short grid can.
    grid = {"mode": "grid", "batch_size": 16, "num_lrs": 5, "steps": 30, "min_lr": 1e-4, "max_lr": 1.0}
    assert_clean(await call(rl, "lr_sweep", {"harness": H, **grid}))


@pytest.mark.parametrize("function", list(KNOWN))
async def test_clean_pieces_give_the_hand_worked_values(rl, function):
    assert_clean(await call(rl, "check_known_values", {"harness": H, "function": function, "cases": [KNOWN[function]]}))


@pytest.mark.parametrize("bug, function", list(BUGS.items()))
async def test_each_planted_bug_fails_its_known_value(rl, bug, function):
    result = await call(rl, "check_known_values", {"harness": bug, "function": function, "cases": [KNOWN[function]]})
    assert "known_value_mismatch" in codes(result, "error"), result["summary"]


async def test_training_climbs_the_return_and_flipped_or_wrong_gradients_do_not(rl):
    """Clean: the return rises with no finding; PG sign flipped / wrong actions: objective_not_improving."""
    short = {"steps": 60, "lr": 1e-2, "batch_size": 16, "eval_every": 20}
    ids = {
        h: (await call(rl, "start_training", {"harness": h, **short}))["details"]["run_id"]
        for h in (H, "bug_pg_sign.py", "bug_wrong_actions.py")
    }
    clean = await wait(rl, ids[H])
    assert_clean(clean)
    history = [p["metrics"]["return"] for p in clean["details"]["seeds"][0]["history"]]
    assert [p["step"] for p in clean["details"]["seeds"][0]["history"]] == [0, 20, 40, 60]
    assert history[-1] > history[0] + 50, history  # learning, not noise: ~18 at init
    assert clean["details"]["seeds"][0]["best"]["metric"] == "return"
    for bug in ("bug_pg_sign.py", "bug_wrong_actions.py"):
        result = await wait(rl, ids[bug])
        assert "objective_not_improving" in codes(result, "error"), result["summary"]
