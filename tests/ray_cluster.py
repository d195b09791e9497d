"""A real Ray cluster for tests: `ray start --head --block` on free ports in its own short temp
dir and its own process group, so that stopping it ends only our processes, never another test's
Ray on the same machine (`ray stop` would stop every Ray of this user). And `finished`, the wait
for a training run that the Ray tests share."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from conftest import call

RAY = Path(sys.executable).parent / "ray"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ports() -> list[str]:
    names = [
        "--port",
        "--ray-client-server-port",
        "--dashboard-agent-listen-port",
        "--dashboard-agent-grpc-port",
        "--metrics-export-port",
        "--runtime-env-agent-port",
    ]
    return [arg for name in names for arg in (name, str(free_port()))]


def cluster_pids(temp_dir: str) -> list[int]:
    """Every process whose command line names our temp dir: Ray's daemons of this cluster only."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and temp_dir in (proc / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(proc.name))
        except OSError:
            pass
    return pids


@contextmanager
def ray_head(num_cpus: int = 2, env: dict[str, str] | None = None):
    """Start a head node; yield its address ("127.0.0.1:port") and its temp dir."""
    temp_dir = tempfile.mkdtemp(prefix="r", dir="/tmp")  # short: Ray's socket paths have a length limit
    args = [
        str(RAY),
        "start",
        "--head",
        "--node-ip-address",
        "127.0.0.1",
        "--num-cpus",
        str(num_cpus),
        "--temp-dir",
        temp_dir,
        "--include-dashboard",
        "false",
        *_ports(),
    ]
    address = f"127.0.0.1:{args[args.index('--port') + 1]}"
    try:
        started = subprocess.run(args, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})
        if started.returncode != 0:
            raise RuntimeError(f"ray start failed: {started.stderr[-3000:]}")
        yield address, temp_dir
    finally:
        stop(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


def stop(temp_dir: str) -> None:
    """SIGTERM to this cluster's daemons, then SIGKILL to what is left of them (`ray stop` would
    stop every Ray of this user); its Ray workers exit with their raylet."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in cluster_pids(temp_dir):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while cluster_pids(temp_dir) and time.monotonic() < deadline:
            time.sleep(0.1)


async def finished(client, run_id: str) -> dict:
    """The details of run `run_id` once it has ended (training_status waits up to 10 s a call)."""
    for _ in range(60):
        result = await call(client, "training_status", {"run_id": run_id, "wait_s": 10})
        if result["details"]["status"] not in ("queued", "running"):
            return result["details"]
    raise AssertionError(f"run {run_id} did not finish")
