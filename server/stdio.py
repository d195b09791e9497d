"""The stdio transport: the SDK's `stdio_server`, on our own copies of fd 0 and fd 1, behind a check.

`claim_stdio` takes both descriptors before anything starts, so nothing but JSON-RPC reaches the
client and no child reads the client's input. `CheckedLines` sits between stdin and the SDK's
reader: a line that is not one JSON-RPC 2.0 message (a batch, `"jsonrpc": "1.0"`, `params: []`,
not JSON...) gets its error answer (server/jsonrpc.py, the same check as HTTP's) and never reaches
the SDK, which would drop it and leave the client waiting; the next line is served as usual.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import sys
from collections.abc import AsyncIterator

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

from .jsonrpc import rpc_problem

log = logging.getLogger(__name__)


def claim_stdio() -> tuple[int, int]:
    """Keep the protocol on private copies of fd 0 and fd 1, point fd 0 at /dev/null and fd 1 and
    sys.stdout at stderr, before anything starts (Ray's daemons inherit fd 1, and its listener threads
    print to sys.stdout, up to the interpreter's exit): nothing but JSON-RPC can then reach the client,
    and no child can read its input."""
    wire_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    wire_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return wire_in, wire_out


class CheckedLines:
    """The client's lines for the SDK's reader, less those that are not one JSON-RPC message:
    each of those is answered on `answers` instead."""

    def __init__(self, lines: anyio.AsyncFile[str]):
        self.lines = lines
        self._send: ObjectSendStream[SessionMessage]
        self.answers: ObjectReceiveStream[SessionMessage]
        self._send, self.answers = anyio.create_memory_object_stream[SessionMessage](0)

    async def __aiter__(self) -> AsyncIterator[str]:
        async with self._send:
            async for line in self.lines:
                if not line.strip():
                    continue  # a blank line between messages is no message
                problem = rpc_problem(line)
                if problem is None:
                    yield line
                    continue
                log.info("refused a stdio message: %s", problem.message)
                await self._send.send(SessionMessage(problem.answer()))


async def _forward(answers: ObjectReceiveStream[SessionMessage], write: ObjectSendStream[SessionMessage]) -> None:
    async with answers:
        async for answer in answers:
            await write.send(answer)


async def _serve_on(server, wire_in: int, wire_out: int) -> None:
    # closefd=False: the reading thread may still block on it after the transport exits
    stdin = anyio.wrap_file(
        io.TextIOWrapper(os.fdopen(wire_in, "rb", closefd=False), encoding="utf-8", errors="replace")
    )
    stdout = anyio.wrap_file(io.TextIOWrapper(os.fdopen(wire_out, "wb"), encoding="utf-8"))
    lines = CheckedLines(stdin)
    # CheckedLines reads like the AsyncFile the SDK takes: an async iterator of lines
    async with stdio_server(stdin=lines, stdout=stdout) as (read, write), anyio.create_task_group() as tasks:  # type: ignore[arg-type]
        tasks.start_soon(_forward, lines.answers, write)
        # MCPServer.run_stdio_async() takes no streams; this is its body with ours.
        lowlevel = server._lowlevel_server
        await lowlevel.run(read, write, lowlevel.create_initialization_options())
        tasks.cancel_scope.cancel()


async def serve_stdio(server, wires: tuple[int, int]) -> None:
    try:
        await _serve_on(server, *wires)
    except BaseException as exc:
        # Interrupted (SIGTERM, Ctrl-C) or failed: by now the lifespan has closed and every
        # worker is dead. But the SDK reads stdin in a thread that only end-of-file wakes, and
        # asyncio joins its threads on the way out, so the process would hang: leave right away.
        if not isinstance(exc, (KeyboardInterrupt, anyio.get_cancelled_exc_class())):
            log.error("the server stopped: %r", exc, exc_info=exc)
        sys.stderr.flush()
        os._exit(0)
