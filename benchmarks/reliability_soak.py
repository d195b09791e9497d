"""Soak the server: 200 tool calls over HTTP, 20 at a time from 4 clients, under --max-workers 2.

Prints the resident memory of the server and its workers before and after, call latencies,
and the kill latency of cancelled calls (the figures in docs/safety.md). Run it with
`.venv/bin/python benchmarks/reliability_soak.py`; it takes about a minute on 2 cores.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "reliability"))
from reliability_support import TOOL, HttpServer, hostile, tree_rss_mb, wait_dead, wait_for_pids

CALLS, CONCURRENT, CLIENTS, MAX_WORKERS, CANCELS = 200, 20, 4, 2, 10


async def burst(clients, latencies):
    async def one(i):
        started = time.perf_counter()
        result = await clients[i % len(clients)].call_tool(TOOL, hostile("none"))
        assert not result.is_error
        latencies.append(time.perf_counter() - started)

    async with anyio.create_task_group() as tg:
        for i in range(CONCURRENT):
            tg.start_soon(one, i)


async def kill_latency(server, root) -> float:
    async with server.client() as client:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.call_tool, TOOL, hostile("spawn_and_hang"))
                pids = await wait_for_pids(root, 2)
                scope.cancel()
        return await wait_dead(pids, within=5)


async def main() -> None:
    root = Path(tempfile.mkdtemp())
    for harness in (Path(__file__).resolve().parent.parent / "tests" / "reliability" / "harnesses").glob("*.py"):
        (root / harness.name).write_text(harness.read_text())
    with HttpServer(root, "--max-workers", str(MAX_WORKERS)) as server:
        async with AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(server.client()) for _ in range(CLIENTS)]
            await burst(clients, [])  # warm-up: imports, first plots, caches
            before = tree_rss_mb(server.process.pid)
            latencies: list[float] = []
            started = time.perf_counter()
            for _ in range(CALLS // CONCURRENT):
                await burst(clients, latencies)
            wall = time.perf_counter() - started
        after = tree_rss_mb(server.process.pid)
        kills = sorted([await kill_latency(server, root) for _ in range(CANCELS)])
    latencies.sort()
    print(
        f"{CALLS} calls, {CONCURRENT} concurrent from {CLIENTS} HTTP clients, --max-workers {MAX_WORKERS}: {wall:.1f} s"
    )
    print(
        f"call latency (incl. queueing): median {statistics.median(latencies):.2f} s, "
        f"p95 {latencies[int(0.95 * len(latencies))]:.2f} s, max {latencies[-1]:.2f} s"
    )
    print(
        f"server + workers RSS: {before:.0f} MB after warm-up, "
        f"{after:.0f} MB after {CALLS} calls ({after - before:+.0f} MB)"
    )
    print(
        f"kill latency after cancel ({CANCELS} calls): median {1000 * statistics.median(kills):.0f} ms, "
        f"max {1000 * kills[-1]:.0f} ms"
    )


if __name__ == "__main__":
    anyio.run(main)
