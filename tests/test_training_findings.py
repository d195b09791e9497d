"""Findings on training runs: each planted bug flagged by the run that trains it, each clean
twin flagged by nothing, and a run whose evaluate returns NaN/Inf finishes without harming the server."""

import math

import anyio
import pytest
from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio

SHORT = {"steps": 300, "lr": 3e-3, "batch_size": 64, "eval_every": 100}

# harness -> the error codes its run must carry (empty: a clean twin, no error or warning at all)
CASES = {
    "train_clean.py": set(),
    "train_bn_clean.py": set(),
    "train_smoothing_clean.py": set(),
    "train_bn_frozen.py": {"buffers_not_updated", "train_eval_gap"},
    "train_ascent.py": {"objective_not_improving", "diverged"},
    "train_negative_kl.py": {"negative_kl", "loss_unbounded"},
    "train_smoothing_lost.py": {"loss_below_floor"},
    "no_optimizer_step.py": {"loss_not_decreasing"},
}


@pytest.fixture(scope="module")
async def finished_runs(client) -> dict[str, dict]:
    """Every case trained once (the server runs them side by side), then read when done."""
    ids = {h: (await call(client, "start_training", {"harness": h, **SHORT}))["details"]["run_id"] for h in CASES}
    results = {}
    for harness, run_id in ids.items():
        for _ in range(30):
            result = await call(client, "training_status", {"run_id": run_id, "wait_s": 10})
            if result["details"]["status"] not in ("queued", "running"):
                break
        results[harness] = result
    return results


@pytest.mark.parametrize("harness", list(CASES))
@pytest.mark.slow
async def test_each_bug_is_flagged_and_each_twin_is_clean(finished_runs, harness):
    result = finished_runs[harness]
    assert result["details"]["status"] == "completed", result["summary"]
    if not CASES[harness]:
        assert_clean(result)
    else:
        assert CASES[harness] <= codes(result, "error"), result["findings"]


@pytest.mark.slow
async def test_findings_carry_the_numbers(finished_runs):
    frozen = finding_of(finished_runs["train_bn_frozen.py"], "buffers_not_updated")
    assert frozen["evidence"]["steps"] == 300 and "running_mean" in frozen["message"]  # the final verdict, not step 100
    gap = finding_of(finished_runs["train_bn_frozen.py"], "train_eval_gap")["evidence"]
    assert gap["eval_mode_loss"] > 2 * gap["train_mode_loss"]
    falling = finding_of(finished_runs["train_ascent.py"], "objective_not_improving")
    assert falling["evidence"]["last"] < falling["evidence"]["first"] and "wrong way" in falling["message"]
    assert "check_known_values" in falling["suggestion"]


async def test_a_nan_metric_is_a_finding_and_the_server_carries_on(client, project_root):
    run_id = (await call(client, "start_training", {"harness": "train_bad_metric.py", **SHORT, "seeds": [0, 1]}))[
        "details"
    ]["run_id"]
    for _ in range(30):
        result = await call(client, "training_status", {"run_id": run_id, "wait_s": 10})
        if result["details"]["status"] not in ("queued", "running"):
            break
    record = result["details"]
    assert record["status"] == "completed" and {"non_finite_metric"} == codes(result, "error")
    assert {f["where"] for f in result["findings"]} == {"precision", "ratio"}
    # NaN since the first evaluation: the finding names step 0, not the last evaluation's step
    nan = finding_of(result, "non_finite_metric")
    assert nan["evidence"]["step"] == 0 and nan["evidence"]["latest_step"] == 300
    assert "from step 0 on (still" in nan["message"]
    assert set(record["metrics"]) == {"accuracy"}  # means over seeds of the finite metrics only
    assert record["seeds"][0]["history"][0]["metrics"]["precision"] is None  # NaN is stored as null
    # the server still answers, and the record on disk is one it can read back
    listed = await call(client, "list_runs", {"limit": 200})
    assert run_id in {r["run_id"] for r in listed["details"]["runs"]}
    assert all(item["file"] != f"{run_id}.json" for item in listed["details"]["skipped"])
    assert math.isfinite(record["metrics"]["accuracy"]["mean"])


async def test_findings_arrive_while_the_run_is_still_going(client):
    args = {"harness": "train_bad_metric.py", "steps": 50_000, "batch_size": 16, "eval_every": 40}
    run_id = (await call(client, "start_training", args))["details"]["run_id"]
    with anyio.fail_after(60):
        while "non_finite_metric" not in codes(status := await call(client, "training_status", {"run_id": run_id})):
            await anyio.sleep(0.2)
    assert status["details"]["status"] == "running" and status["status"] == "fail"
    assert (await call(client, "cancel_training", {"run_id": run_id}))["details"]["status"] == "cancelled"
