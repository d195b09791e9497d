"""The zygote: a process that has imported torch once and forks a child per job.

Importing torch costs about a second and 200 MB; forking an interpreter that already has
it costs milliseconds. Each job still runs in a fresh process (its own copy of every
module, the harness imported anew), so a call can neither see nor break another's state.

The zygote owns its children. Each child leads its own process group (setsid), so one
killpg reaches everything the user's code spawned. When a child exits, the zygote kills
what is left of its group *before* reaping it: the unreaped zombie keeps the group id from
being reused, so the kill cannot hit a stranger. It also polls the resident memory of
each group and kills one that passes its cap. When the server goes away (its socket
closes, whatever killed it), the zygote kills every group and exits.
"""

from __future__ import annotations

import ctypes
import os
import selectors
import signal
import socket
import sys
import traceback
from dataclasses import dataclass

from . import protocol

MEMORY_POLL_S = 0.1
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphans on a server crash)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass


def group_rss_mb() -> dict[int, float]:
    """Resident memory per process group, summed over its processes, from /proc."""
    totals: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        pgrp, rss_pages = int(fields[2]), int(fields[21])
        totals[pgrp] = totals.get(pgrp, 0.0) + rss_pages * _PAGE_MB
    return totals


@dataclass
class Child:
    job_id: str
    memory_limit_mb: float | None
    peak_rss_mb: float = 0.0
    killed_for_memory: bool = False


def _run_child(sock: socket.socket, wake: tuple[int, int], request: dict, fds: list[int]) -> None:
    """In the forked child: become a process-group leader, wire fds 0/1/2, run the job."""
    code = 70
    try:
        os.setsid()
        die_with_parent()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sock.close()
        for fd in wake:
            os.close(fd)
        stdout_w, stderr_w, result_w = fds
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # code that reads stdin gets EOF instead of blocking
        os.dup2(stdout_w, 1)
        os.dup2(stderr_w, 2)
        for fd in (devnull, stdout_w, stderr_w):
            os.close(fd)
        from .job import run_job

        code = run_job(request, result_w)
    except BaseException:  # noqa: BLE001 - report, then exit without running the zygote's cleanup
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Zygote:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.children: dict[int, Child] = {}
        self.wake = os.pipe()
        for fd in self.wake:
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake[1])
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler must exist for the wakeup byte
        signal.signal(signal.SIGTERM, lambda *_: self.shutdown())

    def serve(self) -> None:
        import torch  # the whole point: children inherit it already imported

        protocol.send(
            self.sock,
            {"type": protocol.READY, "python": sys.version.split()[0], "torch_version": torch.__version__, "pid": os.getpid()},
        )
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ)
        selector.register(self.wake[0], selectors.EVENT_READ)
        while True:
            ready = selector.select(MEMORY_POLL_S if self.children else None)
            for key, _ in ready:
                if key.fileobj is self.sock:
                    message, fds, _, _ = socket.recv_fds(self.sock, protocol.MAX_DATAGRAM, 3)
                    if not message:
                        self.shutdown()
                    self.start(protocol.decode(message), fds)
                else:
                    while True:
                        try:
                            if not os.read(self.wake[0], 512):
                                break
                        except BlockingIOError:
                            break
            self.reap()
            if self.children:
                self.enforce_memory()

    def start(self, message: dict, fds: list[int]) -> None:
        request = message["request"]
        pid = os.fork()
        if pid == 0:
            _run_child(self.sock, self.wake, request, fds)
        for fd in fds:
            os.close(fd)
        self.children[pid] = Child(message["id"], request.get("memory_limit_mb"))
        protocol.send(self.sock, {"type": protocol.STARTED, "id": message["id"], "pid": pid})

    def reap(self) -> None:
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            pid = info.si_pid
            child = self.children.pop(pid, None)
            if child is not None:
                _killpg(pid)  # the zombie still holds the group id: only our group is hit
            _, status = os.waitpid(pid, 0)
            if child is not None:
                protocol.send(
                    self.sock,
                    {
                        "type": protocol.EXITED,
                        "id": child.job_id,
                        "returncode": os.waitstatus_to_exitcode(status),
                        "peak_rss_mb": round(child.peak_rss_mb, 1),
                        "killed_for_memory": child.killed_for_memory,
                    },
                )

    def enforce_memory(self) -> None:
        usage = group_rss_mb()
        for pid, child in self.children.items():
            rss = usage.get(pid, 0.0)
            child.peak_rss_mb = max(child.peak_rss_mb, rss)
            if child.memory_limit_mb and rss > child.memory_limit_mb and not child.killed_for_memory:
                child.killed_for_memory = True
                _killpg(pid)

    def shutdown(self) -> None:
        for pid in list(self.children):
            _killpg(pid)
        os._exit(0)


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(sock_fd: int) -> None:
    die_with_parent()
    Zygote(socket.socket(fileno=sock_fd)).serve()
