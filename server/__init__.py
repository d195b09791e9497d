"""MCP wiring: options, the server factory, transports. No diagnostics logic, no torch."""

from .app import build_server
from .config import ServerConfig

__all__ = ["build_server", "ServerConfig"]
