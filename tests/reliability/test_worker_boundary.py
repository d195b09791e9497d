"""What crosses between the server and a worker (issue 13: items 1 and 9; issue 17's thread
budget): arguments of any size reach the worker, names the file system cannot hold are
refused in words, whatever the worker sends back is checked (a megabyte source line, a line
that is not JSON, an answer missing its keys), memory is measured once per shared page, and
a result whose check could not run is marked isError with its structured content kept."""

import json
import os
from typing import Annotated

import anyio
import pytest
from conftest import call, connect
from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult
from reliability_support import (
    MEMORY_LIMIT_MB,
    TOOL,
    assert_ran,
    finding_codes,
    hostile,
    make_root,
    take_pids,
    wait_dead,
)

from implement_paper.tools.inspect_model.tool import InspectArgs, InspectResult
from implement_paper.tools.runtime.harness_args import HarnessPath
from implement_paper.tools.runtime.runner import WorkerPool
from implement_paper.tools.runtime.tool import Tool
from implement_paper.tools.runtime.tool_call import call_tool

pytestmark = pytest.mark.anyio

THREADS = 1  # --threads-per-worker of the module's server


def doing(action, **kwargs):
    """Arguments of a TOOL call whose build_model does `action` with these keyword arguments."""
    return {"harness": "hostile.py", "model_kwargs": {"action": action, **kwargs}}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = make_root(tmp_path_factory)
    # One line of a megabyte that raises with a megabyte message: both must be cut.
    (root / "long_line.py").write_text(
        "def get_batch(n, split='train'):\n    return None\n\n"
        "def build_model():\n    raise ValueError('" + "x" * 1_000_000 + "')\n"
    )
    return root


@pytest.fixture(scope="module")
async def client(root):
    async with connect(
        root, timeout_s=60, memory_limit_mb=MEMORY_LIMIT_MB, max_workers=2, threads_per_worker=THREADS
    ) as client:
        yield client


@pytest.mark.slow
async def test_arguments_larger_than_a_datagram_reach_the_worker(client):
    # Item 1: 300 KB of model_kwargs used to fail with EMSGSIZE on the zygote's socket.
    blob = "x" * 300_000
    result = await call(client, TOOL, doing("kwargs_size", blob=blob))
    assert_ran(result)
    assert "blob of 300000 characters" in result["run"]["stdout_tail"]


@pytest.mark.slow
async def test_start_training_takes_large_model_kwargs(client):
    kwargs = {"action": "kwargs_size", "blob": "y" * 300_000}
    started = await call(
        client, "start_training", {"harness": "hostile.py", "model_kwargs": kwargs, "steps": 2, "batch_size": 4}
    )
    run_id = started["details"]["run_id"]
    with anyio.fail_after(60):
        while (status := await call(client, "training_status", {"run_id": run_id, "wait_s": 5}))["details"][
            "status"
        ] in (
            "queued",
            "running",
        ):
            pass
    assert status["details"]["status"] == "completed", status["summary"]


async def test_model_kwargs_beyond_the_cap_are_refused_in_words(client):
    result = await client.call_tool(TOOL, {"harness": "hostile.py", "model_kwargs": {"blob": "z" * (33 * 2**20)}})
    assert result.is_error and result.structured_content is None
    assert "model_kwargs" in result.content[0].text and "MiB" in result.content[0].text


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"harness": "a" * 300 + ".py"}, "over 255 bytes"),
        ({"harness": "bad\x00name.py"}, "NUL"),
        ({"harness": "hostile.py", "names": {"build_model": "b" * 300}}, "identifier"),
        ({"harness": "hostile.py", "names": {"build_model": "a\x00b"}}, "identifier"),
    ],
)
async def test_names_no_file_system_holds_are_refused_in_words(client, arguments, words):
    result = await client.call_tool(TOOL, arguments)
    assert result.is_error and result.structured_content is None
    text = result.content[0].text
    assert "Invalid arguments" in text and words in text, text


async def test_a_megabyte_source_line_gives_a_small_answer(client):
    result = await client.call_tool(TOOL, {"harness": "long_line.py"})
    assert result.is_error  # status "error": the check could not run ...
    content = result.structured_content  # ... and the envelope still comes, structured
    assert finding_codes(content) == ["user_code_error"] and content["status"] == "error"
    size = len(json.dumps(content)) + sum(len(part.text) for part in result.content)
    assert size < 20_000, size  # was 2.9 MB
    assert "long_line.py:5" in content["findings"][0]["message"]


@pytest.mark.parametrize(
    "line, words",
    [
        ("this is not JSON", "not JSON"),
        ('{"type": "result", "payload": {"findings": []}}', "no 'summary'"),
        ('{"type": "result", "payload": {"summary": "s", "findings": [], "details": "not a dict"}}', "does not fit"),
        (
            '{"type": "result", "payload": {"summary": "s", "findings": [{"code": "x", "severity": "fatal"}]}}',
            "does not fit",
        ),
        ('{"type": "progress", "done": "half"}', "unreadable message"),
    ],
)
async def test_whatever_the_worker_sends_becomes_an_internal_error(client, line, words):
    result = await call(client, TOOL, doing("write_result", line=line))
    assert finding_codes(result) == ["internal_error"], result["summary"]
    assert words in result["findings"][0]["message"], result["findings"][0]["message"]
    assert_ran(await call(client, TOOL, hostile("none")))  # and the server carries on


async def test_a_line_too_long_for_any_answer_is_dropped_and_said(client):
    result = await call(client, TOOL, doing("write_huge_line", mib=65))
    assert finding_codes(result) == ["internal_error"]
    assert "over 64 MiB on the result pipe was dropped" in result["findings"][0]["message"]


@pytest.mark.slow
async def test_forks_sharing_their_pages_are_not_counted_once_each(client, root):
    # 60 idle forks of a ~250 MB job: summed RSS says ~15 GB, their proportional share ~300 MB.
    take_pids(root)
    result = await call(client, TOOL, doing("idle_forks", n=60, seconds=1.0))
    assert_ran(result)
    print(f"60 idle forks: peak {result['run']['peak_rss_mb']} MB")
    assert 0 < result["run"]["peak_rss_mb"] < MEMORY_LIMIT_MB
    await wait_dead(take_pids(root))


async def test_a_fast_call_still_reports_its_peak_memory(client):
    result = await call(client, TOOL, hostile("none"))
    assert result["run"]["peak_rss_mb"] > 10  # was 0.0 when the call ended before the first memory poll


async def test_a_run_failure_is_marked_is_error_with_its_envelope(client):
    result = await client.call_tool(TOOL, hostile("exit_code"))
    assert result.is_error and result.structured_content["status"] == "error"
    assert finding_codes(result.structured_content) == ["user_code_error"]
    clean = await client.call_tool(TOOL, hostile("none"))
    assert not clean.is_error


def test_by_default_each_worker_gets_its_share_of_the_cores(tmp_path):
    cores = len(os.sched_getaffinity(0))
    assert WorkerPool(root=tmp_path, max_workers=2).threads_per_job() == max(1, cores // 2)
    assert WorkerPool(root=tmp_path, max_workers=4, threads_per_worker=3).threads_per_job() == 3


async def test_the_result_says_how_many_threads_the_worker_used(client):
    result = await call(client, TOOL, hostile("report_threads"))
    assert result["run"]["threads"] == THREADS and f"threads={THREADS}" in result["run"]["stdout_tail"]


async def test_a_failure_inside_the_server_is_an_internal_error_envelope():
    """Not a bare "Error executing tool": e.g. out of file descriptors while starting a job."""

    async def out_of_fds(args, runtime, progress):
        raise OSError(24, "Too many open files")

    async def broken(ctx: Context, *, harness: HarnessPath) -> Annotated[CallToolResult, InspectResult]:
        return await call_tool(tool, ctx, locals())

    tool = Tool(
        name="broken", args=InspectArgs, result=InspectResult, description="fails", invoke=out_of_fds, function=broken
    )
    server = MCPServer("broken")
    server.add_tool(tool.function, name=tool.name)
    async with Client(server) as client:
        result = await client.call_tool("broken", {"harness": "h.py"})
    assert result.is_error and finding_codes(result.structured_content) == ["internal_error"]
    assert "OSError: [Errno 24] Too many open files" in result.structured_content["summary"]
