"""Queue reporting (issue 27): tool calls have a lane of their own beside training runs, every
result says how long it waited for a worker, and runs that wait show `queued`."""

import anyio
import pytest
from conftest import call, connect

pytestmark = pytest.mark.anyio

ENDLESS = {"harness": "train_clean.py", "steps": 1_000_000, "batch_size": 16}  # holds its worker until cancelled


async def first_running(client, run_ids: list[str]) -> tuple[str, str]:
    """(the run that took the only worker, the other). Two runs started back to back may reach the
    lane in either order: each first saves its record in a thread."""
    with anyio.fail_after(120):
        while True:
            for run_id in run_ids:
                if (await call(client, "training_status", {"run_id": run_id}))["details"]["status"] == "running":
                    return run_id, next(r for r in run_ids if r != run_id)
            await anyio.sleep(0.2)


@pytest.mark.slow
async def test_a_quick_check_answers_while_training_holds_the_only_worker_and_waiting_runs_show_queued(project_root):
    async with connect(project_root, max_workers=1, timeout_s=120) as client:
        started = [(await call(client, "start_training", ENDLESS))["details"]["run_id"] for _ in range(2)]
        try:
            first, second = await first_running(client, started)
            waiting = await call(client, "training_status", {"run_id": second})
            assert waiting["details"]["status"] == "queued" and waiting["details"]["seeds"][0]["status"] == "queued"
            assert waiting["summary"].startswith(f"run {second}: queued")
            listed = {run["run_id"]: run["status"] for run in (await call(client, "list_runs", {}))["details"]["runs"]}
            assert (listed[first], listed[second]) == ("running", "queued")
            with anyio.fail_after(100):  # the old single lane waited for a million steps
                check = await call(client, "inspect_model", {"harness": "clean_mlp.py"})
            assert check["status"] == "pass" and check["run"]["queued_s"] >= 0
            assert (await call(client, "training_status", {"run_id": first}))["details"]["status"] == "running"
        finally:
            for run_id in started:
                await call(client, "cancel_training", {"run_id": run_id})


@pytest.mark.slow
async def test_a_call_that_waited_for_the_worker_says_how_long(project_root):
    async with connect(project_root, max_workers=1, timeout_s=120) as client:
        results, messages = {}, {0: [], 1: []}

        async def one(i):
            async def on_progress(done, total, message):
                messages[i].append(message or "")

            result = await client.call_tool("inspect_model", {"harness": "clean_mlp.py"}, progress_callback=on_progress)
            results[i] = result.structured_content

        async with anyio.create_task_group() as tg:
            tg.start_soon(one, 0)
            tg.start_soon(one, 1)
    queued = [i for i in (0, 1) if any(m.startswith("queued:") for m in messages[i])]
    assert len(queued) == 1, messages  # one worker: one call waited for the other
    waited = results[queued[0]]["run"]["queued_s"]
    assert waited > 0 and any(m.startswith("started on a worker after waiting") for m in messages[queued[0]])
    assert all(r["status"] == "pass" for r in results.values())
