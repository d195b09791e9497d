"""Cancellation and shutdown (issue 5): a cancelled call's worker tree dies within a second;
a server that is terminated, loses its client (stdin closed) or is killed outright leaves
no worker process behind."""

import signal
import time

import anyio
import pytest
from conftest import connect
from reliability_support import (
    TOOL,
    RawStdioServer,
    alive,
    children_of,
    hostile,
    make_root,
    wait_dead,
    wait_dead_blocking,
    wait_for_pids,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_root(tmp_path_factory)


@pytest.mark.slow
async def test_cancelled_call_has_its_worker_tree_killed(root):
    async with connect(root, timeout_s=60) as client:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.call_tool, TOOL, hostile("spawn_and_hang"))
                pids = await wait_for_pids(root, 2)  # the job and its `sleep` child
                cancelled_at = time.perf_counter()
                scope.cancel()
        await wait_dead(pids)  # far below the call's own timeout (60 s): only the cancel killed it
        print(f"kill latency after cancel: {1000 * (time.perf_counter() - cancelled_at):.0f} ms")
        assert not (await client.call_tool(TOOL, hostile("none"))).is_error  # still serving


def _started_hanging_job(root, *args):
    """A stdio server subprocess running a job that hangs with a child; its zygote and job pids."""
    server = RawStdioServer(root, *args)
    server.initialize()
    server.send("tools/call", {"name": TOOL, "arguments": hostile("spawn_and_hang")})
    pids = anyio.run(wait_for_pids, root, 2)
    return server, children_of(server.process.pid) + pids


@pytest.mark.parametrize("how", ["SIGTERM", "stdin closed", "SIGKILL"])
@pytest.mark.slow
def test_server_going_away_leaves_no_worker_behind(root, how):
    server, pids = _started_hanging_job(root)
    try:
        assert len(pids) == 3 and all(alive(pid) for pid in pids)  # zygote, job, sleep
        if how == "stdin closed":
            server.process.stdin.close()
        else:
            server.process.send_signal(getattr(signal, how))
        server.process.wait(timeout=10)
        wait_dead_blocking(pids)
    finally:
        server.close()
