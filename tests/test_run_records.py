"""Run records are untrusted input: whatever lies under .implement-paper/runs/ never blocks,
crashes or redirects the server; two servers on one root leave each other's live runs alone;
a failure inside one run (a seed task, a plot) costs that run, never the server."""

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from conftest import call, codes, connect

from implement_paper.tools.runtime import run_store
from implement_paper.tools.runtime.run_store import RunRecord, RunStore, SeedRun, unknown_run_message
from implement_paper.tools.training import tool as training_jobs

pytestmark = pytest.mark.anyio
HARNESSES = Path(__file__).parent / "harnesses"


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    for name in ("clean_mlp.py", "train_clean.py"):
        shutil.copy(HARNESSES / name, root / name)
    return root


def record(run_id: str, status: str = "completed", **extra) -> dict:
    seeds = [SeedRun(seed=0, status=status, steps_done=10)]
    return RunRecord(
        run_id="placeholder",
        harness="train_clean.py",
        status=status,
        created_at="2026-01-01T00:00:00+00:00",
        steps=10,
        lr=1e-3,
        batch_size=8,
        seeds=seeds,
    ).model_dump(mode="json") | {"run_id": run_id, **extra}


def plant_bad_files(runs: Path, escape: str) -> set[str]:
    """Every kind of file that is not a valid record; returns their names."""
    (runs / "a-directory.json").mkdir()
    (runs / "dangling.json").symlink_to(runs / "nowhere")
    os.mkfifo(runs / "fifo.json")
    (runs / "truncated.json").write_text(json.dumps(record("truncated"))[:40])
    (runs / "wrong-schema.json").write_text(json.dumps({"run_id": "wrong-schema", "hello": 1}))
    (runs / "nan.json").write_text(json.dumps(record("nan")).replace('"lr": 0.001', '"lr": NaN'))
    (runs / "renamed.json").write_text(json.dumps(record("someone-else")))
    # a run that claims to be in flight, with an id that walks out of the root
    (runs / "escape.json").write_text(json.dumps(record(f"/../../{escape}", status="running")))
    (runs / "bad id!.json").write_text(json.dumps(record("bad id!")))
    return {
        "a-directory.json",
        "dangling.json",
        "fifo.json",
        "truncated.json",
        "wrong-schema.json",
        "nan.json",
        "renamed.json",
        "escape.json",
        "bad id!.json",
    }


@pytest.mark.slow
async def test_bad_files_under_runs_are_skipped_and_reported(tmp_path):
    root = project(tmp_path)
    runs = root / ".implement-paper" / "runs"
    runs.mkdir(parents=True)
    escape = f"escaped-{secrets.token_hex(4)}"
    bad = plant_bad_files(runs, escape)
    (runs / "20200101-000000-aaaaaa.json").write_text(json.dumps(record("20200101-000000-aaaaaa")))
    (runs / "20200101-000001-bbbbbb.json").write_text(json.dumps(record("20200101-000001-bbbbbb", status="running")))
    with anyio.fail_after(60):  # a FIFO opened for reading would block here forever
        async with connect(root) as client:
            listed = await call(client, "list_runs", {"limit": 200})
            runs_by_id = {r["run_id"]: r for r in listed["details"]["runs"]}
            assert set(runs_by_id) == {"20200101-000000-aaaaaa", "20200101-000001-bbbbbb"}
            assert runs_by_id["20200101-000001-bbbbbb"]["status"] == "interrupted"  # its server is gone
            assert {s["file"] for s in listed["details"]["skipped"]} == bad
            assert listed["status"] == "warn" and codes(listed) == {"run_record_skipped"}
            # the server still works: a new run starts and finishes beside the junk
            run_id = (await call(client, "start_training", {"harness": "train_clean.py", "steps": 20}))["details"][
                "run_id"
            ]
            assert (await call(client, "training_status", {"run_id": run_id, "wait_s": 30}))["details"][
                "status"
            ] == "completed"
            unknown = await call(client, "training_status", {"run_id": "truncated"})
            assert unknown["summary"] == unknown_run_message("truncated")
    for place in (Path("/") / f"{escape}.json", root.parent.parent / f"{escape}.json", root / f"{escape}.json"):
        assert not place.exists(), place  # the escaping record was never written anywhere
    assert json.loads((runs / "escape.json").read_text())["status"] == "running"  # nor marked interrupted


def test_list_runs_reads_only_the_newest_records(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    store.folder.mkdir(parents=True)
    for i in range(5):
        store.write(f"2026010{i}-000000-aaaaaa", json.dumps(record(f"2026010{i}-000000-aaaaaa")))
    reads = []
    original = RunStore.read
    monkeypatch.setattr(RunStore, "read", lambda self, name: reads.append(name) or original(self, name))
    records, skipped = store.newest(limit=1)
    assert [r.run_id for r in records] == ["20260104-000000-aaaaaa"] and reads == ["20260104-000000-aaaaaa.json"]
    assert store.load("../../etc/passwd") is None and store.load("/abs") is None


@pytest.mark.slow
async def test_two_servers_on_one_root_leave_each_others_runs_alone(tmp_path):
    root = project(tmp_path)
    async with connect(root) as first:
        long = {"harness": "train_clean.py", "steps": 1_000_000, "batch_size": 8}
        run_id = (await call(first, "start_training", long))["details"]["run_id"]
        with anyio.fail_after(60):
            while (await call(first, "training_status", {"run_id": run_id}))["details"]["seeds"][0]["steps_done"] == 0:
                await anyio.sleep(0.2)
        async with connect(root) as second:
            listed = {r["run_id"]: r for r in (await call(second, "list_runs", {}))["details"]["runs"]}
            assert listed[run_id]["status"] == "running"  # not marked interrupted by the newcomer
            seen = await call(second, "training_status", {"run_id": run_id})
            assert "run_elsewhere" in codes(seen, "info") and f"pid {os.getpid()}" in seen["summary"]
            refused = await call(second, "cancel_training", {"run_id": run_id})
            assert refused["details"]["status"] == "running"  # this server cannot cancel it
        assert (await call(first, "cancel_training", {"run_id": run_id}))["details"]["status"] == "cancelled"


@pytest.mark.slow
async def test_a_failure_inside_a_run_costs_that_run_not_the_server(tmp_path, monkeypatch):
    root = project(tmp_path)

    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    def broken_plot(*args, **kwargs):
        raise ValueError("no ink")

    async with connect(root) as client:
        monkeypatch.setattr(training_jobs, "execute", broken)
        failed = await call(client, "start_training", {"harness": "train_clean.py", "steps": 20, "seeds": [0, 1]})
        result = await call(client, "training_status", {"run_id": failed["details"]["run_id"], "wait_s": 30})
        assert result["details"]["status"] == "failed" and result["status"] == "error"
        assert [f["code"] for f in result["findings"]] == ["internal_error"] * 2
        assert "RuntimeError: disk on fire" in result["findings"][0]["message"]
        monkeypatch.undo()
        monkeypatch.setattr(training_jobs, "training_run_plot", broken_plot)
        drawn = await call(client, "start_training", {"harness": "train_clean.py", "steps": 20})
        result = await call(client, "training_status", {"run_id": drawn["details"]["run_id"], "wait_s": 30})
        assert result["details"]["status"] == "completed" and "no ink" in result["details"]["findings"][0]["message"]
        assert (await call(client, "list_runs", {}))["status"] == "pass"  # and the server answers on


@pytest.mark.slow
async def test_a_run_with_thousands_of_metric_names_is_capped_and_read_back(tmp_path):
    root = project(tmp_path)
    for name in ("train_many_metrics.py", "train_clean.py"):
        shutil.copy(HARNESSES / name, root / name)
    args = {"harness": "train_many_metrics.py", "steps": 40, "eval_every": 1, "batch_size": 8}
    async with connect(root) as client:
        run_id = (await call(client, "start_training", args))["details"]["run_id"]
        with anyio.fail_after(300):
            while (await call(client, "training_status", {"run_id": run_id, "wait_s": 30}))["details"][
                "status"
            ] != "completed":
                pass
    record_file = root / ".implement-paper" / "runs" / f"{run_id}.json"
    assert record_file.stat().st_size <= run_store.MAX_RECORD_BYTES  # readable: today 36 MB were written
    async with connect(root) as client:  # a fresh server reads the completed run back from disk
        result = await call(client, "training_status", {"run_id": run_id})
    assert (
        result["details"]["status"] == "completed" and "accuracy" in result["details"]["metrics"]
    )  # the objective kept
    capped = {f["where"]: f for f in result["findings"] if f["code"] == "record_capped"}
    assert capped["metric"]["evidence"] == {"kept": 51, "dropped": 3950, "cap": 50}
    assert capped["loss term"]["evidence"] == {"kept": 50, "dropped": 250, "cap": 50}
    assert "'probe_0050_" in capped["metric"]["message"]  # the first dropped name is quoted


@pytest.mark.slow
def test_a_record_over_the_budget_is_thinned_until_it_fits():
    history = [{"step": s, "metrics": {f"m{i}_" + "x" * 150: 1.0 for i in range(50)}} for s in range(2001)]
    seeds = [SeedRun(seed=n, status="completed", history=history) for n in range(16)]
    big = RunRecord(
        run_id="r",
        harness="h.py",
        status="completed",
        created_at="2026-01-01",
        steps=2000,
        lr=1e-3,
        batch_size=8,
        seeds=seeds,
        model_kwargs={"table": "y" * (20 << 20)},
    )
    text = run_store.record_text(big)
    assert len(text.encode()) <= run_store.RECORD_BUDGET
    back = run_store.parse_record(text, "r")
    assert back.model_kwargs is None and back.findings[-1].code == "record_capped"
    assert [p.step for p in back.seeds[0].history][-1] == 2000  # the last evaluation is kept


def start_training_in_a_server_process(root: Path) -> tuple[subprocess.Popen, str]:
    """A real server over stdio with a long run in flight; its process and the run id."""
    server = Path(sys.executable).parent / "implement-paper-mcp"
    process = subprocess.Popen(
        [str(server), "--root", str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    initialize = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
    long = {"harness": "train_clean.py", "steps": 1_000_000, "batch_size": 8}
    for message in (
        {"id": 1, "method": "initialize", "params": initialize},
        {"method": "notifications/initialized"},
        {"id": 2, "method": "tools/call", "params": {"name": "start_training", "arguments": long}},
    ):
        process.stdin.write((json.dumps({"jsonrpc": "2.0", **message}) + "\n").encode())
    process.stdin.flush()
    for line in process.stdout:
        answer = json.loads(line)
        if answer.get("id") == 2:
            return process, answer["result"]["structuredContent"]["details"]["run_id"]
    raise AssertionError("the server closed stdout before answering start_training")


@pytest.mark.slow
async def test_runs_of_a_server_killed_with_sigkill_are_marked_interrupted(tmp_path):
    root = project(tmp_path)
    process, run_id = start_training_in_a_server_process(root)
    record_file = root / ".implement-paper" / "runs" / f"{run_id}.json"
    with anyio.fail_after(60):
        while not record_file.exists() or json.loads(record_file.read_text())["seeds"][0]["steps_done"] == 0:
            await anyio.sleep(0.2)
    async with connect(root) as client:  # a server already running on the root when the owner dies
        listed = {r["run_id"]: r for r in (await call(client, "list_runs", {}))["details"]["runs"]}
        assert listed[run_id]["status"] == "running"  # its owner is alive: left alone
        process.kill()  # SIGKILL: no lifespan exit, the lock file and the record stay as they were
        process.wait()
        listed = {r["run_id"]: r for r in (await call(client, "list_runs", {}))["details"]["runs"]}
        assert listed[run_id]["status"] == "interrupted"
        status = await call(client, "training_status", {"run_id": run_id})
        assert "run_elsewhere" not in codes(status) and "crashed" in codes(status)
    assert json.loads(record_file.read_text())["status"] == "interrupted"  # saved so, for every later reader
