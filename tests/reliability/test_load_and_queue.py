"""Load (issue 5): 20 concurrent calls, from one client and from several HTTP clients, queue
under --max-workers with progress while they wait; each gets its own answer; memory
returns to its baseline after 200 calls."""

import anyio
import pytest
from conftest import connect
from reliability_support import TOOL, HttpServer, assert_ran, make_root, tree_rss_mb

pytestmark = pytest.mark.anyio

CONCURRENT = 20
MAX_WORKERS = 2
SOAK_CALLS = 200  # ~6 s with the tiny harness on 2 cores; benchmarks/reliability_soak.py prints more figures


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_root(tmp_path_factory)


async def burst(clients, count=CONCURRENT):
    """`count` concurrent echo calls spread over `clients`; their results and progress messages."""
    results, progress = {}, {i: [] for i in range(count)}

    async def one(i):
        async def on_progress(done, total, message):
            progress[i].append(message or "")

        result = await clients[i % len(clients)].call_tool(
            TOOL,
            {"harness": "hostile.py", "model_kwargs": {"action": "echo", "token": f"call-{i}"}},
            progress_callback=on_progress,
        )
        assert not result.is_error, result.content[0].text
        results[i] = result.structured_content

    async with anyio.create_task_group() as tg:
        for i in range(count):
            tg.start_soon(one, i)
    return results, progress


def check_burst(results, progress):
    for i, result in results.items():
        assert_ran(result)
        assert f"token=call-{i}\n" == result["run"]["stdout_tail"]  # its own answer, nobody else's
    queued = [i for i, messages in progress.items() if any(m.startswith("queued:") for m in messages)]
    assert len(queued) >= CONCURRENT // 2, progress  # only MAX_WORKERS run at once; the others are told they wait
    assert f"one of {MAX_WORKERS} workers" in progress[queued[0]][0]


@pytest.mark.slow
async def test_concurrent_calls_from_one_client_queue_with_progress(root):
    async with connect(root, max_workers=MAX_WORKERS) as client:
        check_burst(*await burst([client]))


@pytest.mark.slow
async def test_concurrent_http_calls_from_one_and_several_clients_and_memory_returns(root):
    with HttpServer(root, "--max-workers", str(MAX_WORKERS)) as server:
        async with server.client() as one, server.client() as two, server.client() as three, server.client() as four:
            check_burst(*await burst([one]))  # also warms the server up: the baseline is after it
            baseline = tree_rss_mb(server.process.pid)
            for _ in range(SOAK_CALLS // CONCURRENT):
                check_burst(*await burst([one, two, three, four]))
        after = tree_rss_mb(server.process.pid)
    print(f"server+zygote RSS: {baseline:.0f} MB after warm-up, {after:.0f} MB after {SOAK_CALLS} more calls")
    assert after - baseline < 25
