"""A training run judged against a baseline (a trivial method's level) and a ceiling (the best
achievable): an improvement from an untrained start is not success, and a score past the best
achievable is a leak."""

import pytest
from conftest import call, codes, finding_of

pytestmark = pytest.mark.anyio

LEVEL_CODES = {"below_baseline", "beyond_ceiling", "far_from_ceiling"}


@pytest.fixture(scope="module")
async def trained(client) -> str:
    """train_clean.py (accuracy in percent, 4 classes of a linear teacher) trained to well above chance."""
    args = {"harness": "train_clean.py", "steps": 300, "lr": 3e-3, "batch_size": 64, "eval_every": 100,
            "baseline": {"accuracy": 25.0}, "ceiling": {"accuracy": 100.0}}  # fmt: skip
    run_id = (await call(client, "start_training", args))["details"]["run_id"]
    for _ in range(30):
        status = await call(client, "training_status", {"run_id": run_id, "wait_s": 10})
        if status["details"]["status"] not in ("queued", "running"):
            break
    assert status["details"]["status"] == "completed"
    return run_id


@pytest.mark.slow
async def test_a_run_above_chance_and_near_its_ceiling_draws_no_level_finding(client, trained):
    status = await call(client, "training_status", {"run_id": trained})
    assert not codes(status) & LEVEL_CODES and status["details"]["baseline"] == {"accuracy": 25.0}
    assert "internal_error" not in codes(status)  # the plot drew its baseline and ceiling lines


@pytest.mark.parametrize(
    ("levels", "code"),
    [
        ({"baseline": {"accuracy": 99.99}}, "below_baseline"),  # a random policy that plays better than the run
        ({"ceiling": {"accuracy": 1.0}}, "beyond_ceiling"),  # past the best achievable (objective: max): a leak
        ({"baseline": {"accuracy": 0.0}, "ceiling": {"accuracy": 1000.0}}, "far_from_ceiling"),
    ],
)
async def test_training_status_judges_the_final_metrics_against_levels(client, trained, levels, code):
    status = await call(client, "training_status", {"run_id": trained, **levels})
    assert codes(status) & LEVEL_CODES == {code} and status["status"] in ("warn", "fail")
    assert finding_of(status, code)["where"] == "accuracy"
