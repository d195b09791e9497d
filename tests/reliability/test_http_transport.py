"""The HTTP transport (issues 5 and 13): the bearer token guards every request, forged Host
and Origin headers are refused while the names a remote client really uses are accepted, a
non-loopback bind without a token refuses to start, a loopback session works, a client that
disconnects mid-call has its worker killed on every protocol version, and idle or half-sent
connections cannot use up the server's file descriptors."""

import json
import selectors
import socket
import subprocess
import time
from pathlib import Path

import anyio
import httpx
import pytest
from reliability_support import (
    SERVER_SCRIPT,
    TOOL,
    HttpServer,
    assert_ran,
    hostile,
    make_root,
    wait_dead,
    wait_for_pids,
)

from implement_paper.server.http import MAX_BODY_BYTES, REQUEST_TIMEOUT_S, interface_addresses, security_settings

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
@pytest.mark.slow
def test_every_request_needs_the_token(server, method, authorization):
    headers = {**MCP_HEADERS, **({"Authorization": authorization} if authorization else {})}
    response = httpx.request(
        method, server.url, json=INITIALIZE if method == "POST" else None, headers=headers, timeout=10
    )
    assert response.status_code == 401


def test_the_right_token_is_let_in(server):
    assert post(server, {"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@pytest.mark.parametrize(
    "forged", [{"Host": "evil.example:80"}, {"Origin": "http://evil.example"}, {"Host": "127.0.0.1.evil.example"}]
)
def test_forged_host_or_origin_is_refused(server, forged):
    response = post(server, {"Authorization": f"Bearer {TOKEN}", **forged})
    assert response.status_code in (400, 403, 421), response.text


@pytest.mark.slow
def test_non_loopback_bind_without_token_refuses_to_start(root):
    # 192.0.2.1 is TEST-NET: even without the check, nothing could be served there.
    done = subprocess.run(
        [str(SERVER_SCRIPT), "--transport", "http", "--host", "192.0.2.1", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0
    assert "refusing to bind 192.0.2.1" in done.stderr and "--auth-token" in done.stderr


@pytest.mark.slow
async def test_loopback_session_lists_and_calls_tools(server):
    async with server.client() as client:
        assert TOOL in {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool(TOOL, hostile("none"))
        assert not result.is_error
        assert_ran(result.structured_content)


async def _call_then_drop_with_the_sdk_client(server, root):
    """The SDK's client, on the protocol version it negotiates (the current one)."""
    async with server.client() as client:
        version = client.protocol_version
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.call_tool, TOOL, hostile("spawn_and_hang"))
                pids = await wait_for_pids(root, 2)
                scope.cancel()  # the transport aborts the request's HTTP stream
    return version, pids


async def _call_then_drop_on_2025_06_18(server, root):
    """Raw HTTP on the session-based 2025-06-18 wire, whose spec lets a dropped request run on."""
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(timeout=30) as http:
        session = (await http.post(server.url, json=INITIALIZE, headers=headers)).headers["mcp-session-id"]
        headers |= {"mcp-session-id": session, "mcp-protocol-version": "2025-06-18"}
        await http.post(server.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
        call = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": TOOL, "arguments": hostile("spawn_and_hang")},
        }
        async with http.stream("POST", server.url, json=call, headers=headers):
            pids = await wait_for_pids(root, 2)
        # leaving the block closes the connection mid-response
    return "2025-06-18", pids


@pytest.mark.parametrize(
    "drop", [_call_then_drop_with_the_sdk_client, _call_then_drop_on_2025_06_18], ids=["current", "2025-06-18"]
)
async def test_a_client_that_disconnects_mid_call_has_its_worker_killed(server, root, drop):
    version, pids = await drop(server, root)
    gone_at = time.perf_counter()
    await wait_dead(pids)  # far below the server's call timeout (300 s): only the disconnect killed it
    print(f"kill latency after HTTP disconnect ({version}): {1000 * (time.perf_counter() - gone_at):.0f} ms")


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_wildcard_bind_accepts_the_machine_s_names_and_the_listed_ones(host):
    settings = security_settings(host, 9000, ("proxy.example", "lb.example:443"))
    allowed = set(settings.allowed_hosts)
    assert {
        "localhost:9000",
        "127.0.0.1:9000",
        f"{socket.gethostname()}:9000",
        "proxy.example:9000",
        "lb.example:443",
    } <= allowed
    assert all(f"{address}:9000" in allowed or f"[{address}]:9000" in allowed for address in interface_addresses())
    assert not {"0.0.0.0:9000", "[::]:9000", "evil.example:9000"} & allowed


def test_a_loopback_bind_accepts_only_loopback_names():
    allowed = set(security_settings("127.0.0.1", 9000).allowed_hosts)
    assert "localhost:9000" in allowed and f"{socket.gethostname()}:9000" not in allowed


@pytest.mark.slow
def test_a_remote_client_of_a_wildcard_bind_gets_in_with_the_token(root):
    # The attack: --host 0.0.0.0 --auth-token T answered 421 to every real Host header.
    with HttpServer(root, "--allowed-hosts", "proxy.example", token=TOKEN, host="0.0.0.0") as server:
        remote = [a for a in interface_addresses() if ":" not in a and not a.startswith("127.")]
        for name in [socket.gethostname(), "localhost", "proxy.example", *remote[:1]]:
            response = post(server, {"Authorization": f"Bearer {TOKEN}", "Host": f"{name}:{server.port}"})
            assert response.status_code == 200, (name, response.status_code, response.text)
        forged = post(server, {"Authorization": f"Bearer {TOKEN}", "Host": f"evil.example:{server.port}"})
        assert forged.status_code == 421
        assert post(server, {"Host": f"localhost:{server.port}"}).status_code == 401


def _open_idle_and_half_sent(port: int, idle: int, half: int) -> list[socket.socket]:
    sockets = []
    for i in range(idle + half):
        s = socket.create_connection(("127.0.0.1", port))
        if i >= idle:  # headers that never end
            s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")
        sockets.append(s)
    return sockets


def _closed_by_server(s: socket.socket) -> bool:
    """Read what the server sent: True once it closed the connection (end of file, or reset)."""
    try:
        return s.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _still_open_at(sockets: list[socket.socket], deadline: float) -> list[socket.socket]:
    """The sockets the server has not closed by `deadline` (time.monotonic()): each wakes the wait as it
    closes, so this returns as soon as the last one does."""
    left = set(sockets)
    with selectors.DefaultSelector() as selector:  # epoll: more than select()'s 1,024 descriptors
        for s in sockets:
            s.setblocking(False)
            selector.register(s, selectors.EVENT_READ)
        while left and (remaining := deadline - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=remaining):
                if _closed_by_server(key.fileobj):
                    selector.unregister(key.fileobj)
                    left.discard(key.fileobj)
    return list(left)


@pytest.mark.slow  # waits out the server's request timeout (REQUEST_TIMEOUT_S)
async def test_idle_and_half_sent_connections_cannot_exhaust_descriptors(root):
    # The attack: 1,500 connections, accepted before any auth, never closed; at 1,024
    # descriptors the worker's pipes failed with EMFILE.
    with HttpServer(root, fd_limit=1024, token=TOKEN) as server:
        attackers = _open_idle_and_half_sent(server.port, idle=1000, half=500)
        try:
            async with server.client() as client:
                result = await client.call_tool(TOOL, hostile("none"))
                assert not result.is_error, result.content[0].text
                assert_ran(result.structured_content)
            open_fds = len(list((Path(f"/proc/{server.process.pid}/fd")).iterdir()))
            assert open_fds < 600, open_fds
            # Each was opened before the call above, so the server's timeout has closed it by then.
            deadline = time.monotonic() + REQUEST_TIMEOUT_S + 1
            still_open = await anyio.to_thread.run_sync(_still_open_at, attackers, deadline)
            assert not still_open, f"{len(still_open)} idle or half-sent connections still open"
        finally:
            for s in attackers:
                s.close()


@pytest.mark.parametrize(
    "body, status, code, words",
    [
        (json.dumps({**INITIALIZE, "pad": "x" * MAX_BODY_BYTES}), 413, -32600, f"cap of {MAX_BODY_BYTES} bytes"),
        (json.dumps([INITIALIZE]), 400, -32600, "batches are not supported"),
        (json.dumps({**INITIALIZE, "jsonrpc": "1.0"}), 400, -32600, '"jsonrpc" must be "2.0"'),
        (json.dumps({**INITIALIZE, "params": []}), 400, -32602, "params are an object"),
        (json.dumps({**INITIALIZE, "id": {"no": 1}}), 400, -32600, '"id" must be a string or an integer'),
        (json.dumps(INITIALIZE)[:-2], 400, -32700, "not JSON"),
    ],
)
def test_what_is_not_one_json_rpc_request_gets_the_spec_s_error(server, body, status, code, words):
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}
    response = httpx.post(server.url, content=body, headers=headers, timeout=30)
    answer = response.json()
    assert response.status_code == status and answer["jsonrpc"] == "2.0" and answer["error"]["code"] == code
    assert words in answer["error"]["message"]
