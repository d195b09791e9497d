"""A real Ray cluster for tests: `ray start --head --block` on free ports in its own short temp
dir and its own process group, so that stopping it ends only our processes, never another test's
Ray on the same machine (`ray stop` would stop every Ray of this user)."""

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

RAY = Path(sys.executable).parent / "ray"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ports() -> list[str]:
    names = ["--port", "--ray-client-server-port", "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--metrics-export-port", "--runtime-env-agent-port"]
    return [arg for name in names for arg in (name, str(free_port()))]


def _ours(temp_dir: str) -> list[int]:
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
    """Start a head node; yield its address ("127.0.0.1:port") and the `ray start` process."""
    temp_dir = tempfile.mkdtemp(prefix="r", dir="/tmp")  # short: Ray's socket paths have a length limit
    args = [str(RAY), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", str(num_cpus), "--temp-dir", temp_dir, "--include-dashboard", "false", *_ports()]
    address = f"127.0.0.1:{args[args.index('--port') + 1]}"
    head = subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    try:
        _wait_ready(head, Path(temp_dir))
        yield address, temp_dir
    finally:
        _stop(head, temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)


def _wait_ready(head: subprocess.Popen, temp_dir: Path) -> None:
    deadline = time.monotonic() + 120
    while not (temp_dir / "ray_current_cluster").exists():
        if head.poll() is not None:
            raise RuntimeError(f"ray start failed: {head.stderr.read().decode()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError("ray start did not finish in 120 s")
        time.sleep(0.2)


def _stop(head: subprocess.Popen, temp_dir: str) -> None:
    """SIGTERM to our `ray start --block` (it stops its daemons), then SIGKILL what is left of ours."""
    try:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    for pid in _ours(temp_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
