"""Streamable HTTP transport: loopback by default, a bearer token for anything else.

The SDK's DNS-rebinding protection (Host and Origin checks) is always on. On loopback we
allow the loopback names; on any other bind, the names and addresses a remote client
really uses to reach this machine (its host names, its interfaces' addresses), plus what
`--allowed-hosts` lists (a name behind a proxy or NAT). Binding a non-loopback address
exposes a tool that runs code, so it is refused unless a token is configured, and then
every request must carry it.

Three more guards sit in front of the SDK's app:
* `GuardedH11Protocol`: uvicorn only times out a keep-alive connection after a response,
  so a connection that never sends a whole request would hold its file descriptor
  forever, and 1,000 of them leave no descriptor for a worker's pipes. A request must
  arrive whole within REQUEST_TIMEOUT_S, and at most MAX_CONNECTIONS stay open.
* `CancelOnDisconnect`: a client that drops its connection mid-call cancels the call, on
  every protocol version (the SDK does it only for 2026-07-28).
* `BearerTokenMiddleware`: 401 without the token.
* `JsonRpcGate`: what the SDK answers with a bare status or a validation dump gets the
  JSON-RPC error the spec names (server/jsonrpc.py, shared with stdio): a body over the cap
  (413, naming it), a batch, a `jsonrpc` other than "2.0" (-32600 Invalid Request), `params`
  that is not an object (-32602 Invalid params).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import socket

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, TransportSecuritySettings
from mcp_types import INVALID_REQUEST
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import ServerConfig
from .jsonrpc import RpcProblem, rpc_problem

log = logging.getLogger(__name__)

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
WILDCARDS = {"0.0.0.0", "::", ""}
REQUEST_TIMEOUT_S = 10.0  # a whole request (headers and body) within this of connecting or of the last response
MAX_CONNECTIONS = 256  # open HTTP connections; well under the usual 1,024 descriptors
# asyncio accepts up to `backlog` connections in one go, before any closing can run: with
# uvicorn's 2,048 a flood passes the descriptor limit within one burst.
ACCEPT_BACKLOG = 128
SHUTDOWN_GRACE_S = 3  # on SIGTERM, open streams get this long before the server stops anyway
MAX_BODY_BYTES = DEFAULT_MAX_REQUEST_BODY_SIZE  # the SDK's own cap (4 MiB), answered here with a JSON-RPC error


class InsecureBindError(ValueError):
    pass


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def interface_addresses() -> set[str]:
    """This machine's IPv4 and IPv6 addresses, from /proc (Linux); empty elsewhere."""
    found: set[str] = set()
    try:
        with open("/proc/net/fib_trie") as f:
            last = None
            for line in f:
                words = line.split()
                if words[:1] == ["|--"]:
                    last = words[1]
                elif words[:3] == ["/32", "host", "LOCAL"] and last:
                    found.add(last)
    except OSError:
        pass
    try:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                address = ipaddress.IPv6Address(int(line.split()[0], 16))
                if not address.is_link_local:  # a link-local Host needs a zone id no client sends
                    found.add(str(address))
    except (OSError, ValueError, IndexError):
        pass
    return found


def machine_hosts() -> set[str]:
    """The names and addresses by which a client can reach this machine."""
    names = {socket.gethostname(), socket.getfqdn()}
    hosts = set(LOOPBACK_NAMES) | names | interface_addresses()
    for name in names:
        try:
            hosts |= {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
        except OSError:
            continue
    return {h for h in hosts if h and h not in WILDCARDS}


def allowed_hosts(host: str, extra: tuple[str, ...] = ()) -> set[str]:
    """Host names the server answers to: loopback names on loopback, else the machine's."""
    if is_loopback(host):
        base = {host} | LOOPBACK_NAMES
    else:
        base = machine_hosts() | ({host} - WILDCARDS)
    return base | set(extra)


def security_settings(host: str, port: int, extra: tuple[str, ...] = ()) -> TransportSecuritySettings:
    """Host and Origin allow-lists. An entry of --allowed-hosts may carry a port (name:8080)
    or a wildcard port (name:*); without one, the server's port is assumed."""
    hosts, origins = [], []
    for name in sorted(allowed_hosts(host, extra)):
        bare = f"[{name}]" if ":" in name and not name.startswith("[") and _is_ipv6(name) else name
        with_port = [bare] if _has_port(bare) else [f"{bare}:{port}", bare]
        hosts += with_port
        origins += [f"{scheme}://{h}" for h in with_port for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def _is_ipv6(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).version == 6
    except ValueError:
        return False


def _has_port(name: str) -> bool:
    return name.rsplit("]", 1)[-1].count(":") == 1


class BearerTokenMiddleware:
    """401 for every HTTP request whose Authorization header is not `Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            supplied = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(supplied, self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": b"missing or wrong bearer token\n"})
                return
        await self.app(scope, receive, send)


class JsonRpcGate:
    """Reads each POST body (at most MAX_BODY_BYTES) and answers what is not one JSON-RPC 2.0 request
    with the spec's error, then hands the body on to the SDK."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            body.extend(message.get("body", b""))
            if len(body) > MAX_BODY_BYTES:
                cap = (
                    f"the request body is over this server's cap of {MAX_BODY_BYTES} bytes ({MAX_BODY_BYTES >> 20} MiB)"
                )
                problem = RpcProblem(INVALID_REQUEST, cap + ": put large data in a file of the project")
                return await _rpc_error(send, 413, problem)
            if not message.get("more_body", False):
                break
        if (checked := rpc_problem(bytes(body))) is not None:
            return await _rpc_error(send, 400, checked)
        replay = [{"type": "http.request", "body": bytes(body), "more_body": False}]

        async def replayed() -> Message:
            return replay.pop() if replay else await receive()

        await self.app(scope, replayed, send)


async def _rpc_error(send: Send, status: int, problem: RpcProblem) -> None:
    payload = problem.answer().model_dump_json(by_alias=True, exclude_unset=True).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


class CancelOnDisconnect:
    """A client that disconnects before its answer has come cancels the request.

    On the session-based 2025 wires a dropped response stream does not cancel the request
    (the spec lets it run on), so its worker would compute for nobody until the end. We
    watch each POST: when the client goes away before the response is complete, the
    session gets the `notifications/cancelled` a polite client would have sent, and the
    tool's cancellation kills the worker's process tree. The 2026-07-28 wire cancels by
    itself; a notification there would be dropped, so we send none."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, seen = bytearray(), {"disconnect": False, "complete": False}

        async def watched_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) <= DEFAULT_MAX_REQUEST_BODY_SIZE:  # the SDK's cap
                body.extend(message.get("body", b""))
            elif message["type"] == "http.disconnect":
                seen["disconnect"] = True
            return message

        async def watched_send(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                seen["complete"] = True
            await send(message)

        await self.app(scope, watched_receive, watched_send)
        if seen["disconnect"] and not seen["complete"]:
            with anyio.CancelScope(shield=True):
                await self._cancel(scope, bytes(body))

    async def _cancel(self, scope: Scope, body: bytes) -> None:
        headers = dict(scope["headers"])
        version = headers.get(b"mcp-protocol-version", b"").decode("latin-1")
        if b"mcp-session-id" not in headers or (version and version not in HANDSHAKE_PROTOCOL_VERSIONS):
            return
        try:
            request = json.loads(body)
            request_id = request["id"]
        except (ValueError, TypeError, KeyError):
            return  # a notification, a response, or not JSON: nothing runs on its behalf
        log.info("client disconnected during request %r: cancelling it", request_id)
        notice = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": request_id, "reason": "the client disconnected"},
        }
        await self._post(scope, json.dumps(notice).encode())

    async def _post(self, scope: Scope, data: bytes) -> None:
        """POST `data` to the app on the disconnected request's session (same headers)."""
        kept = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"content-type", b"accept")]
        headers = kept + [
            (b"content-type", b"application/json"),
            (b"accept", b"application/json, text/event-stream"),
            (b"content-length", str(len(data)).encode()),
        ]
        messages = [{"type": "http.request", "body": data, "more_body": False}]

        async def receive() -> Message:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            pass  # a 202 for a notification: nobody is listening

        await self.app({**scope, "headers": headers}, receive, send)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request and a cap on connections.

    uvicorn's own `limit_concurrency` does not help here: it accepts the connection and
    answers 503 only once a request arrives, so silent connections still hold descriptors."""

    evicted = 0
    last_warning = float("-inf")

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._arm_deadline()
        open_ = [c for c in self.connections if isinstance(c, GuardedH11Protocol) and not c.transport.is_closing()]
        if len(open_) > MAX_CONNECTIONS:
            oldest = min((c for c in open_ if c._idle()), key=lambda c: c._idle_since, default=self)
            oldest.transport.close()
            GuardedH11Protocol.evicted += 1
            if self.loop.time() - GuardedH11Protocol.last_warning > 10:  # a flood must not flood the log too
                GuardedH11Protocol.last_warning = self.loop.time()
                log.warning("over %d HTTP connections: %d idle ones closed so far", MAX_CONNECTIONS, self.evicted)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _idle(self) -> bool:
        """No request in progress: nothing but the connection itself would be lost."""
        return self.cycle is None or self.cycle.response_complete

    def _arm_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._idle_since = self.loop.time()
        self._deadline = self.loop.call_later(REQUEST_TIMEOUT_S, self._expire, self.cycle)

    def _expire(self, armed_with) -> None:
        """Close unless a whole request arrived since the deadline was armed."""
        cycle = self.cycle
        stalled = (
            cycle is None
            or (cycle is armed_with and cycle.response_complete)
            or (not cycle.response_complete and cycle.more_body)
        )
        if stalled and not self.transport.is_closing():
            self.transport.close()


def http_app(server: MCPServer, config: ServerConfig) -> ASGIApp:
    """The ASGI app: the SDK's streamable HTTP app behind our checks."""
    if not is_loopback(config.host) and not config.auth_token:
        raise InsecureBindError(
            f"refusing to bind {config.host}: this server runs code, so a non-loopback address needs "
            "--auth-token (or IMPLEMENT_PAPER_TOKEN)"
        )
    settings = security_settings(config.host, config.port, config.allowed_hosts)
    app = JsonRpcGate(CancelOnDisconnect(server.streamable_http_app(transport_security=settings, host=config.host)))
    return BearerTokenMiddleware(app, config.auth_token) if config.auth_token else app


async def serve_http(server: MCPServer, config: ServerConfig) -> None:
    import uvicorn

    app = http_app(server, config)
    log.info("serving streamable HTTP on http://%s:%s/mcp", config.host, config.port)
    uv_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        log_level="warning",
        http=GuardedH11Protocol,
        backlog=ACCEPT_BACKLOG,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    await uvicorn.Server(uv_config).serve()
