"""The HTTP transport (issue 5): the bearer token guards every request, forged Host and
Origin headers are refused, a non-loopback bind without a token refuses to start, a
loopback session works, and a client that disconnects mid-call has its worker killed."""

import subprocess
import time

import anyio
import httpx
import pytest

from reliability_support import SERVER_SCRIPT, TOOL, HttpServer, assert_ran, hostile, make_root, wait_dead, wait_for_pids

pytestmark = pytest.mark.anyio

TOKEN = "s3cret-token"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_root(tmp_path_factory)


@pytest.fixture(scope="module")
def server(root):
    with HttpServer(root, token=TOKEN) as server:
        yield server


def post(server, headers):
    return httpx.post(server.url, json=INITIALIZE, headers={**MCP_HEADERS, **headers}, timeout=10)


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_every_request_needs_the_token(server, method, authorization):
    headers = {**MCP_HEADERS, **({"Authorization": authorization} if authorization else {})}
    response = httpx.request(method, server.url, json=INITIALIZE if method == "POST" else None, headers=headers, timeout=10)
    assert response.status_code == 401


def test_the_right_token_is_let_in(server):
    assert post(server, {"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@pytest.mark.parametrize(
    "forged", [{"Host": "evil.example:80"}, {"Origin": "http://evil.example"}, {"Host": f"127.0.0.1.evil.example"}]
)
def test_forged_host_or_origin_is_refused(server, forged):
    response = post(server, {"Authorization": f"Bearer {TOKEN}", **forged})
    assert response.status_code in (400, 403, 421), response.text


def test_non_loopback_bind_without_token_refuses_to_start(root):
    # 192.0.2.1 is TEST-NET: even without the check, nothing could be served there.
    done = subprocess.run(
        [str(SERVER_SCRIPT), "--transport", "http", "--host", "192.0.2.1", "--root", str(root)],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0
    assert "refusing to bind 192.0.2.1" in done.stderr and "--auth-token" in done.stderr


async def test_loopback_session_lists_and_calls_tools(server):
    async with server.client() as client:
        assert TOOL in {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool(TOOL, hostile("none"))
        assert not result.is_error
        assert_ran(result.structured_content)


async def test_a_client_that_disconnects_mid_call_has_its_worker_killed(server, root):
    async with server.client() as client:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.call_tool, TOOL, hostile("spawn_and_hang"))
                pids = await wait_for_pids(root, 2)
                gone_at = time.perf_counter()
                scope.cancel()  # the transport aborts the request's HTTP stream
    latency = await wait_dead(pids, within=1.0)
    print(f"kill latency after HTTP disconnect: {1000 * (time.perf_counter() - gone_at):.0f} ms")
    assert latency < 1.0
