"""The training-job lifecycle through the MCP client: start, poll, cancel, restart, list."""

import json

import anyio
import pytest

from conftest import call, connect

pytestmark = pytest.mark.anyio


async def wait_finished(client, run_id: str) -> dict:
    for _ in range(20):
        result = await call(client, "training_status", {"run_id": run_id, "wait_s": 10})
        if result["details"]["status"] not in ("queued", "running"):
            return result
    raise AssertionError(f"run {run_id} did not finish")


async def test_run_trains_every_seed_and_reports_metrics(client, project_root):
    started = await call(
        client,
        "start_training",
        {"harness": "train_clean.py", "steps": 300, "lr": 3e-3, "batch_size": 64, "seeds": [0, 1], "label": "t"},
    )
    assert started["status"] == "pass" and started["details"]["status"] in ("queued", "running")
    result = await wait_finished(client, started["details"]["run_id"])
    record = result["details"]
    assert record["status"] == "completed", result["summary"]
    assert [s["steps_done"] for s in record["seeds"]] == [300, 300]
    accuracy = record["metrics"]["accuracy"]
    assert accuracy["n"] == 2 and accuracy["mean"] > 80  # a learnable task, really learned
    # two seeds are two different initialisations, so their curves differ
    assert record["seeds"][0]["curve"]["loss"] != record["seeds"][1]["curve"]["loss"]
    saved = json.loads((project_root / ".implement-paper" / "runs" / f"{record['run_id']}.json").read_text())
    assert saved["status"] == "completed"
    assert (project_root / record["plot"]).read_bytes()[:4] == b"\x89PNG"
    # a finished run shows its curves inline too, as MCP image content
    raw = await client.call_tool("training_status", {"run_id": record["run_id"]})
    assert [c.mime_type for c in raw.content if c.type == "image"] == ["image/png"]


async def test_cancel_stops_a_running_run(client):
    started = await call(client, "start_training", {"harness": "train_clean.py", "steps": 1_000_000, "seeds": [0]})
    run_id = started["details"]["run_id"]
    with anyio.fail_after(30):
        while (await call(client, "training_status", {"run_id": run_id}))["details"]["seeds"][0]["steps_done"] == 0:
            await anyio.sleep(0.2)
    cancelled = await call(client, "cancel_training", {"run_id": run_id})
    assert cancelled["details"]["status"] == "cancelled"
    assert cancelled["details"]["seeds"][0]["steps_done"] < 1_000_000


async def test_runs_survive_a_server_restart(project_root, tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    for name in ("clean_mlp.py", "train_clean.py"):
        (root / name).write_text((project_root / name).read_text())
    async with connect(root) as first:
        done = (await call(first, "start_training", {"harness": "train_clean.py", "steps": 50}))["details"]["run_id"]
        await wait_finished(first, done)
        cut = (await call(first, "start_training", {"harness": "train_clean.py", "steps": 1_000_000}))["details"]["run_id"]
    # the first server is gone; a new one on the same root knows both runs
    async with connect(root) as second:
        runs = {r["run_id"]: r for r in (await call(second, "list_runs", {}))["details"]["runs"]}
        assert runs[done]["status"] == "completed" and "accuracy" in runs[done]["metrics"]
        assert runs[cut]["status"] in ("interrupted", "cancelled")
        status = await call(second, "training_status", {"run_id": done})
        assert status["details"]["metrics"]["accuracy"]["n"] == 1


async def test_unknown_run_and_bad_arguments(client):
    unknown = await call(client, "training_status", {"run_id": "nope"})
    assert unknown["status"] == "error" and "list_runs" in unknown["summary"]
    bad = await client.call_tool("start_training", {"harness": "train_clean.py", "seeds": [1, 1]})
    assert bad.is_error and "distinct" in bad.content[0].text


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
