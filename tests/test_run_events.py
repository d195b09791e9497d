"""TensorBoard event files: every run and seed under .implement-paper/runs/, read back with
TensorBoard's own reader; written by the server without importing torch."""

import subprocess
import sys

import pytest
from conftest import call

from implement_paper.tools.training import events as run_events

pytestmark = pytest.mark.anyio
pytest.importorskip("tensorboard", reason="the tensorboard extra: pip install implement-paper-mcp[tensorboard]")


def scalars(folder) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})  # 0: keep every point
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


async def test_every_seed_of_a_run_writes_loss_lr_terms_and_metrics(client, project_root):
    args = {"harness": "train_negative_kl.py", "steps": 120, "batch_size": 32, "seeds": [0, 1], "eval_every": 40}
    run_id = (await call(client, "start_training", args))["details"]["run_id"]
    record = (await call(client, "training_status", {"run_id": run_id, "wait_s": 45}))["details"]
    assert record["status"] == "completed" and record["events"] == f".implement-paper/runs/{run_id}"
    for seed in (0, 1):
        logged = scalars(project_root / record["events"] / f"seed-{seed}")
        assert {"loss", "lr", "terms/kl", "metrics/accuracy"} <= set(logged)
        assert [step for step, _ in logged["loss"]] == list(range(120))  # every step, once, in order
        assert [step for step, _ in logged["metrics/accuracy"]] == [0, 40, 80, 120]
        history = [p["metrics"]["accuracy"] for p in record["seeds"][seed]["history"]]
        assert [value for _, value in logged["metrics/accuracy"]] == pytest.approx(history, rel=1e-6)
    # the run folder lists both seeds for `tensorboard --logdir .implement-paper/runs`
    assert sorted(p.name for p in (project_root / record["events"]).iterdir()) == ["seed-0", "seed-1"]


def test_writing_events_does_not_import_torch(tmp_path):
    script = (
        "import sys, pathlib\n"
        "from implement_paper.tools.training import tool as training_jobs, events as run_events\n"
        f"log = run_events.EventLog(lambda: pathlib.Path({str(tmp_path)!r}))\n"
        "assert log.open()\n"
        "log.write({'points': {'step': [0, 1], 'loss': [2.0, None], 'terms': {'kl': [0.1, 0.2]}, 'lr': [[2, 0.01]]},"
        " 'history': [{'step': 0, 'metrics': {'accuracy': 50.0}}]})\n"
        "log.close()\n"
        "assert 'torch' not in sys.modules, 'the server imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    logged = scalars(tmp_path)
    assert logged["loss"] == [(0, 2.0)] and logged["metrics/accuracy"] == [(0, 50.0)]  # NaN (None) left out


def test_without_the_extra_no_events_are_written(tmp_path, monkeypatch):
    monkeypatch.setattr(run_events, "tensorboard_available", lambda: False)
    log = run_events.EventLog(lambda: tmp_path / "seed-0")
    assert not log.open()
    log.write({"points": {"step": [0], "loss": [1.0]}})
    log.close()
    assert not (tmp_path / "seed-0").exists()
