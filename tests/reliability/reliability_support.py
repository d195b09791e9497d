"""Shared pieces of the reliability tests: a project root of hostile harnesses, process
inspection through /proc, and a raw stdio server subprocess.

Not a conftest.py: a second module named `conftest` would shadow tests/conftest.py for
`from conftest import call`, so the test modules import this one by name instead.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

HARNESSES = Path(__file__).parent / "harnesses"
CLEAN_MLP = Path(__file__).parent.parent / "harnesses" / "clean_mlp.py"
MEMORY_LIMIT_MB = 600  # a job's base resident memory is ~240 MB (torch's pages, shared with the zygote)
RUN_FAILURES = {
    "harness_error",
    "user_code_error",
    "device_unavailable",
    "timeout",
    "out_of_memory",
    "crashed",
    "cluster_lost",
    "internal_error",
    "worker_start_failed",
}
SERVER_SCRIPT = Path(sys.executable).parent / "implement-paper-mcp"


def make_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh project root holding the hostile harnesses and the clean MLP."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(HARNESSES, root, dirs_exist_ok=True)
    shutil.copy(CLEAN_MLP, root)
    return root


TOOL = "inspect_model"  # the cheapest runner tool (~0.1 s): it builds the model and runs one batch


def hostile(action: str, **extra: Any) -> dict[str, Any]:
    """Arguments of a TOOL call whose build_model does `action` (only the contract's common arguments)."""
    return {"harness": "hostile.py", "model_kwargs": {"action": action}, **extra}


def finding_codes(result: dict[str, Any]) -> list[str]:
    return [f["code"] for f in result["findings"]]


def assert_ran(result: dict[str, Any]) -> None:
    """The check ran to the end: whatever it judged, no run failure."""
    assert not RUN_FAILURES & set(finding_codes(result)), result["summary"]


def take_pids(root: Path) -> list[int]:
    """The pids the harness recorded (hostile.PID_FILE), clearing the record."""
    path = root / "spawned.pids"
    if not path.exists():
        return []
    pids = [int(line) for line in path.read_text().split()]
    path.unlink()
    return pids


async def wait_for_pids(root: Path, count: int, within: float = 30.0) -> list[int]:
    """Wait until the harness has recorded `count` pids (the job is running by then)."""
    path = root / "spawned.pids"
    with anyio.fail_after(within):
        while not path.exists() or len(path.read_text().split()) < count:
            await anyio.sleep(0.02)
    return take_pids(root)


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    """Running or sleeping; a zombie has already died."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def group_or_session_members(leader: int) -> list[int]:
    """Live processes whose process group or session is `leader`'s."""
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[0] != "Z":
            if leader in (int(fields[2]), int(fields[3])):
                members.append(int(entry.name))
    return members


def children_of(pid: int) -> list[int]:
    return [
        int(e.name) for e in os.scandir("/proc") if e.name.isdigit() and (f := _stat(int(e.name))) and int(f[1]) == pid
    ]


# How long a killed process may take to be gone before the test fails: a deadline for the verdict
# "it dies", far below the lifetimes of the processes the tests kill (an endless loop, `sleep 3600`),
# never a latency target (benchmarks/reliability_soak.py measures those): a loaded machine is slow.
DEATH_DEADLINE_S = 15.0


async def wait_dead(pids: list[int], within: float = DEATH_DEADLINE_S) -> float:
    """Seconds until none of `pids` is alive; fails after `within`."""
    started = time.perf_counter()
    with anyio.fail_after(within):
        while any(alive(pid) for pid in pids):
            await anyio.sleep(0.01)
    return time.perf_counter() - started


def wait_dead_blocking(pids: list[int], within: float = DEATH_DEADLINE_S) -> None:
    """wait_dead for synchronous code (outside the event loop)."""
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still alive after {within} s: {[p for p in pids if alive(p)]}"
        time.sleep(0.01)


def rss_mb(pid: int) -> float:
    fields = _stat(pid)
    return int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20 if fields else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RawStdioServer:
    """The console script as a subprocess, spoken to in raw JSON-RPC lines over pipes."""

    def __init__(self, root: Path, *args: str):
        self.process = subprocess.Popen(
            [str(SERVER_SCRIPT), "--root", str(root), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: list[bytes] = []
        self._ids = iter(range(1, 10**6))

    def send(self, method: str, params: dict[str, Any] | None = None, *, notify: bool = False) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params or {}}
        request_id = None if notify else next(self._ids)
        if request_id is not None:
            message["id"] = request_id
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()
        return request_id

    def read_response(self, request_id: int) -> dict[str, Any]:
        """Read stdout lines (each must be JSON-RPC) until the response to `request_id`."""
        while True:
            line = self.process.stdout.readline()
            assert line, f"server closed stdout; stderr: {self.process.stderr.read()[-2000:]!r}"
            self.lines.append(line)
            message = json.loads(line)
            assert message.get("jsonrpc") == "2.0", line[:200]
            if message.get("id") == request_id:
                return message

    def initialize(self) -> dict[str, Any]:
        request_id = self.send(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw-test", "version": "0"}},
        )
        response = self.read_response(request_id)
        self.send("notifications/initialized", notify=True)
        return response

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    return rss_mb(pid) + sum(tree_rss_mb(child) for child in children_of(pid))


class HttpServer:
    """The console script serving streamable HTTP on a free port (loopback unless `host` says otherwise).

    `fd_limit` starts it with that many file descriptors at most (soft and hard)."""

    def __init__(
        self, root: Path, *args: str, token: str | None = None, host: str = "127.0.0.1", fd_limit: int | None = None
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.token = token
        command = [str(SERVER_SCRIPT), "--transport", "http", "--host", host, "--port", str(self.port)]
        command += ["--root", str(root), *args] + (["--auth-token", token] if token else [])
        limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))) if fd_limit else None
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=limit)

    def __enter__(self) -> HttpServer:
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.process.stderr.read().decode()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                assert time.monotonic() < deadline, "HTTP server did not start listening"
                time.sleep(0.05)

    def __exit__(self, *exc_info) -> None:
        workers = children_of(self.process.pid)
        self.process.terminate()
        self.process.wait(timeout=15)
        self.process.stderr.close()
        wait_dead_blocking(workers)

    def client(self, token: str | None = "default"):
        """An MCP client on this server, sending `token` (by default the server's)."""
        import httpx2
        from mcp import Client
        from mcp.client.streamable_http import streamable_http_client

        token = self.token if token == "default" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300))
        return Client(streamable_http_client(self.url, http_client=http))
