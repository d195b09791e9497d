"""Streamable HTTP transport: loopback by default, a bearer token for anything else.

The SDK's DNS-rebinding protection (Host and Origin checks) is always on; we list the
host we bind. Binding a non-loopback address exposes a tool that runs code, so it is
refused unless a token is configured, and then every request must carry it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import ServerConfig

log = logging.getLogger(__name__)

LOOPBACK_NAMES = {"localhost"}


class InsecureBindError(ValueError):
    pass


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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


def security_settings(host: str, port: int) -> TransportSecuritySettings:
    hosts = {host, "127.0.0.1", "localhost"} if is_loopback(host) else {host}
    bracketed = [f"[{h}]" if ":" in h else h for h in hosts]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{h}:{port}" for h in bracketed] + bracketed,
        allowed_origins=[f"http://{h}:{port}" for h in bracketed],
    )


def http_app(server: MCPServer, config: ServerConfig) -> ASGIApp:
    """The ASGI app: the SDK's streamable HTTP app behind our checks."""
    if not is_loopback(config.host) and not config.auth_token:
        raise InsecureBindError(
            f"refusing to bind {config.host}: this server runs code, so a non-loopback address needs "
            "--auth-token (or IMPLEMENT_PAPER_TOKEN)"
        )
    app = server.streamable_http_app(transport_security=security_settings(config.host, config.port), host=config.host)
    return BearerTokenMiddleware(app, config.auth_token) if config.auth_token else app


async def serve_http(server: MCPServer, config: ServerConfig) -> None:
    import uvicorn

    app = http_app(server, config)
    log.info("serving streamable HTTP on http://%s:%s/mcp", config.host, config.port)
    await uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port, log_level="warning")).serve()
