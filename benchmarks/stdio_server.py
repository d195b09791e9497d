"""The server as a user's MCP client sees it: the console script over stdio, and its pid.

Every server figure is measured through this, so that it includes what a real client pays:
spawning the process, the JSON-RPC framing, and the server's own start-up.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters

SERVER_SCRIPT = Path(sys.executable).parent / "implement-paper-mcp"


@dataclass
class Server:
    client: Client
    pid: int  # the server process itself (the zygote and its children are other processes)
    first_list_s: float  # spawn to the first tools/list answer


def children_of(pid: int) -> list[int]:
    kids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == pid:
                kids.append(int(entry.name))
    return kids


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def maps_torch(pid: int) -> bool:
    """Whether libtorch is mapped into the process: the proof that it imported torch."""
    with open(f"/proc/{pid}/maps") as f:
        return "libtorch" in f.read()


@asynccontextmanager
async def stdio_server(root: Path, *options: str) -> AsyncIterator[Server]:
    params = StdioServerParameters(command=str(SERVER_SCRIPT), args=["--root", str(root), *options])
    before = set(children_of(os.getpid()))
    started = time.perf_counter()
    async with Client(params, raise_exceptions=True) as client:
        await client.list_tools()
        first_list_s = time.perf_counter() - started
        (pid,) = set(children_of(os.getpid())) - before
        yield Server(client, pid, first_list_s)


async def call(server: Server, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """The structured result of one tool call and its wall time as the client saw it."""
    started = time.perf_counter()
    result = await server.client.call_tool(tool, arguments)
    elapsed = time.perf_counter() - started
    if result.is_error or result.structured_content is None:
        raise RuntimeError(f"{tool} failed: {result.content[0].text[:500]}")
    return result.structured_content, elapsed
