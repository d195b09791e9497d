"""The training-job lifecycle through the MCP client: start, poll, evaluate as it goes, cancel,
restart, list; progress and step counts right in every state."""

import json
import re

import anyio
import pytest
from conftest import assert_clean, call, connect

from implement_paper.tools.runtime.run_store import RunRecord
from implement_paper.tools.training.tool import plot_series

pytestmark = pytest.mark.anyio


async def wait_finished(client, run_id: str, **extra) -> dict:
    for _ in range(30):
        result = await call(client, "training_status", {"run_id": run_id, "wait_s": 10, **extra})
        if result["details"]["status"] not in ("queued", "running"):
            return result
    raise AssertionError(f"run {run_id} did not finish")


async def poll_until(client, run_id: str, condition, timeout_s: float = 60) -> dict:
    with anyio.fail_after(timeout_s):
        while not condition(status := await call(client, "training_status", {"run_id": run_id})):
            await anyio.sleep(0.2)
    return status


def assert_increasing(steps: list[int]) -> None:
    assert steps == sorted(set(steps)), steps  # no fold-back, no repeats


async def test_run_trains_every_seed_evaluates_as_it_goes_and_reports_metrics(client, project_root):
    args = {"harness": "train_clean.py", "steps": 300, "lr": 3e-3, "batch_size": 64, "seeds": [0, 1], "eval_every": 100}
    started = await call(client, "start_training", {**args, "label": "t"})
    assert started["status"] == "pass" and started["details"]["status"] in ("queued", "running")
    result = await wait_finished(client, started["details"]["run_id"])
    assert_clean(result)
    record = result["details"]
    assert record["status"] == "completed", result["summary"]
    assert [s["steps_done"] for s in record["seeds"]] == [300, 300]
    assert record["progress"] == "2 seeds x 300 steps: 600 of 600 steps done"
    for seed in record["seeds"]:
        assert [p["step"] for p in seed["history"]] == [0, 100, 200, 300]  # step 0, every 100, the end
        assert seed["history"][-1]["metrics"] == seed["metrics"]
        accuracies = [p["metrics"]["accuracy"] for p in seed["history"]]
        assert seed["best"] == {
            "metric": "accuracy",
            "mode": "max",
            "value": max(accuracies),
            "step": seed["history"][accuracies.index(max(accuracies))]["step"],
        }
        assert_increasing(seed["curve"]["step"])
    accuracy = record["metrics"]["accuracy"]
    assert accuracy["n"] == 2 and accuracy["mean"] > 80  # a learnable task, really learned
    # two seeds are two different initialisations, so their curves differ
    assert record["seeds"][0]["curve"]["loss"] != record["seeds"][1]["curve"]["loss"]
    saved = json.loads((project_root / ".implement-paper" / "runs" / f"{record['run_id']}.json").read_text())
    assert saved["status"] == "completed" and saved["seeds"][0]["history"] == record["seeds"][0]["history"]
    assert (project_root / record["plot"]).read_bytes()[:4] == b"\x89PNG"
    # a finished run shows its curves inline too, as MCP image content
    raw = await client.call_tool("training_status", {"run_id": record["run_id"]})
    assert [c.mime_type for c in raw.content if c.type == "image"] == ["image/png"]


async def test_reach_gives_the_first_step_each_seed_crossed_a_value(client):
    args = {"harness": "train_clean.py", "steps": 200, "lr": 3e-3, "batch_size": 64, "seeds": [0, 1], "eval_every": 25}
    run_id = (await call(client, "start_training", args))["details"]["run_id"]
    result = await wait_finished(client, run_id, reach={"accuracy": 80, "loss_like_error": 1.0})
    accuracy, error = result["details"]["reach"]
    for seed, step in zip(result["details"]["seeds"], accuracy["steps"]):
        crossed = [p["step"] for p in seed["history"] if p["metrics"]["accuracy"] >= 80]
        assert step == crossed[0] and step % 25 == 0
    assert (
        accuracy["mode"] == "max" and accuracy["reached"] == 2 and accuracy["mean_step"] == sum(accuracy["steps"]) / 2
    )
    # a metric the run never measured is never reached; its name says lower is better
    assert error == {
        **error,
        "mode": "min",
        "mode_from": "name",
        "steps": [None, None],
        "reached": 0,
        "mean_step": None,
    }


@pytest.mark.slow
async def test_a_running_run_streams_history_and_counts_steps_right_then_cancels(client, project_root):
    """Absolute steps in every state: not restarting after an evaluation, not folding back on cancel."""
    args = {"harness": "train_slow_eval.py", "steps": 50_000, "batch_size": 16, "eval_every": 40}
    run_id = (await call(client, "start_training", args))["details"]["run_id"]
    status = await poll_until(client, run_id, lambda s: len(s["details"]["seeds"][0]["history"]) >= 3)
    seed = status["details"]["seeds"][0]
    assert [p["step"] for p in seed["history"][:3]] == [0, 40, 80]
    assert seed["steps_done"] >= 80 and seed["status"] in ("running", "evaluating")
    assert_increasing(seed["curve"]["step"])
    assert seed["curve"]["step"][-1] >= 79
    assert re.fullmatch(
        r"1 seed x 50,000 steps: [\d,]+ of 50,000 steps done \(seed 0 [\d,]+ (running|evaluating)\)",
        status["details"]["progress"],
    ), status["details"]["progress"]
    assert status["details"]["progress"] in status["summary"]
    evaluating = await poll_until(client, run_id, lambda s: s["details"]["seeds"][0]["status"] == "evaluating")
    assert evaluating["details"]["seeds"][0]["steps_done"] % 40 == 0  # evaluations happen on the grid
    cancelled = await call(client, "cancel_training", {"run_id": run_id})
    record = cancelled["details"]
    assert record["status"] == "cancelled" and record["seeds"][0]["status"] == "cancelled"
    assert 80 <= record["seeds"][0]["steps_done"] < 50_000
    assert_increasing(record["seeds"][0]["curve"]["step"])
    assert (project_root / record["plot"]).is_file()  # the partial curves, drawn once
    assert record["progress"].startswith("1 seed x 50,000 steps: ") and "cancelled" in record["progress"]


@pytest.mark.slow
async def test_runs_survive_a_server_restart(project_root, tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for name in ("clean_mlp.py", "train_clean.py"):
        (root / name).write_text((project_root / name).read_text())
    async with connect(root) as first:
        done = (await call(first, "start_training", {"harness": "train_clean.py", "steps": 50}))["details"]["run_id"]
        await wait_finished(first, done)
        cut = (await call(first, "start_training", {"harness": "train_clean.py", "steps": 1_000_000}))["details"][
            "run_id"
        ]
        await poll_until(first, cut, lambda s: s["details"]["seeds"][0]["steps_done"] > 0)
    # the first server is gone; a new one on the same root knows both runs
    async with connect(root) as second:
        runs = {r["run_id"]: r for r in (await call(second, "list_runs", {}))["details"]["runs"]}
        assert runs[done]["status"] == "completed" and "accuracy" in runs[done]["metrics"]
        assert runs[cut]["status"] == "interrupted"
        status = await call(second, "training_status", {"run_id": done})
        assert status["details"]["metrics"]["accuracy"]["n"] == 1
        interrupted = await call(second, "training_status", {"run_id": cut})
        assert interrupted["details"]["seeds"][0]["steps_done"] > 0  # how far it got survives
        assert "interrupted" in interrupted["details"]["progress"] and interrupted["findings"][0]["code"] == "crashed"


async def test_unknown_run_and_bad_arguments(client):
    unknown = await call(client, "training_status", {"run_id": "nope"})
    assert unknown["status"] == "error" and unknown["findings"][0]["code"] == "unknown_run"
    assert "list_runs" in unknown["summary"]
    assert (await call(client, "cancel_training", {"run_id": "nope"}))["summary"] == unknown["summary"]
    bad = await client.call_tool("start_training", {"harness": "train_clean.py", "seeds": [1, 1]})
    assert bad.is_error and "distinct" in bad.content[0].text
    many = await client.call_tool("start_training", {"harness": "train_clean.py", "steps": 100_000, "eval_every": 1})
    assert many.is_error and "eval_every must be at least" in many.content[0].text
    traversal = await client.call_tool("training_status", {"run_id": "../../etc/passwd"})
    assert traversal.is_error and "run_id" in traversal.content[0].text


@pytest.mark.slow
async def test_compare_metrics_takes_a_finished_run(client):
    run_id = (await call(client, "start_training", {"harness": "train_clean.py", "steps": 200, "seeds": [0, 1]}))[
        "details"
    ]["run_id"]
    early = await call(client, "compare_metrics", {"run_id": run_id, "reported": {"accuracy": 90}})
    finished = await wait_finished(client, run_id)
    measured = finished["details"]["metrics"]["accuracy"]
    result = await call(client, "compare_metrics", {"run_id": run_id, "reported": {"accuracy": measured["mean"]}})
    row = result["details"]["metrics"][0]
    assert result["status"] == "pass" and row["n"] == 2 and row["values"] == pytest.approx(measured["values"])
    # the comparison's plot is saved next to the run's record
    plots = [a["path"] for a in result["artifacts"] if a["kind"] == "plot"]
    assert plots and all(path.startswith(".implement-paper/runs/") for path in plots)
    if early["details"] is None:  # the run was still going: told to wait, not compared
        assert early["status"] == "fail" and "training_status" in early["summary"]
    far = await call(client, "compare_metrics", {"run_id": run_id, "reported": {"accuracy": 10}, "tolerance": 1})
    assert "metric_exceeds_reported" in {f["code"] for f in far["findings"]}
    both = await client.call_tool("compare_metrics", {"run_id": run_id, "measured": {"a": 1}, "reported": {"a": 1}})
    assert both.is_error and "exactly one" in both.content[0].text


async def test_train_step_values_reach_the_record_and_the_plot(client, project_root):
    """What train_step returns beside the loss (an epsilon, a KL weight) is on the seed's curve, step for step,
    in training_status and in the saved record, and each gets a panel of the run's plot."""
    args = {"harness": "train_step_metrics.py", "steps": 150, "lr": 3e-3, "batch_size": 32}
    result = await wait_finished(client, (await call(client, "start_training", args))["details"]["run_id"])
    curve = result["details"]["seeds"][0]["curve"]
    assert set(curve["terms"]) == {"epsilon", "kl_weight"} and len(curve["terms"]["epsilon"]) == len(curve["step"])
    epsilon = dict(zip(curve["step"], curve["terms"]["epsilon"]))
    assert epsilon[0] == pytest.approx(0.991) and epsilon[curve["step"][-1]] == pytest.approx(
        0.1
    )  # step 0's update is the first
    saved = RunRecord.model_validate_json(
        (project_root / ".implement-paper" / "runs" / f"{result['details']['run_id']}.json").read_text()
    )
    assert saved.seeds[0].curve.terms["kl_weight"][-1] == 1.0
    assert {"epsilon (train_step)", "kl_weight (train_step)"} <= set(plot_series(saved)[1])
