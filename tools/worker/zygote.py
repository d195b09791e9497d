"""The zygote: a process that has imported torch once and forks a child per job.

Importing torch costs about a second and 200 MB; forking an interpreter that already has
it costs milliseconds. Each job still runs in a fresh process (its own copy of every
module, the harness imported anew), so a call can neither see nor break another's state.

The zygote owns its children. Each child leads its own process group (setsid), so one
killpg reaches everything the user's code spawned. When a child exits, the zygote kills
what is left of its group *before* reaping it: the unreaped zombie keeps the group id from
being reused, so the kill cannot hit a stranger. It also polls the resident memory of
each group and kills one that passes its cap. When the server goes away (its socket
closes, or the kernel's parent-death signal arrives), the zygote kills every group and exits.

A process can leave its group (setsid, then a double fork). The zygote is a child
subreaper, so such a process is re-parented to the zygote, not to init, once its parents
die; any child of the zygote that is not a job is such an orphan, and is killed.
"""

from __future__ import annotations

import ctypes
import os
import selectors
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass

from . import protocol

MEMORY_POLL_S = 0.1
ORPHAN_WATCH_S = 2.0  # after a job ends, how long to keep looking for its re-parented orphans
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(option, value)
        except (OSError, AttributeError):
            pass


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Ask Linux to send `signum` to this process when its parent dies (no orphans on a server crash)."""
    _prctl(_PR_SET_PDEATHSIG, signum)


@dataclass
class Proc:
    pid: int
    ppid: int
    pgrp: int
    rss_mb: float


def processes() -> list[Proc]:
    """Every process's parent, group and resident memory, from /proc."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        found.append(Proc(int(entry.name), int(fields[1]), int(fields[2]), int(fields[21]) * _PAGE_MB))
    return found


def warm_up() -> None:
    """Import torch and what a job always needs, so that every child inherits them.

    torch imports much of itself lazily: the first optimizer step of a fresh process pulls
    in torch._dynamo and some 800 modules with it (sympy among them), over a second of a
    job's time. Importing them here costs the children nothing. Imports only: running a
    torch op would start thread pools that do not survive a fork."""
    import torch  # noqa: F401
    import torch._dynamo  # noqa: F401 - what the first optimizer.step() would import

    from . import job  # noqa: F401 - its imports (numpy, the harness loader) come along


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
        # Drop the zygote's handlers: its SIGTERM handler would make this child kill the
        # process groups of the other jobs it inherited in `children`.
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
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
        self.watch_orphans_until = 0.0
        self.wake = os.pipe()
        for fd in self.wake:
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake[1])
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler must exist for the wakeup byte
        signal.signal(signal.SIGTERM, lambda *_: self.shutdown())

    def serve(self) -> None:
        warm_up()  # the whole point: children inherit torch imported and warmed up

        protocol.send(self.sock, {"type": protocol.READY})
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ)
        selector.register(self.wake[0], selectors.EVENT_READ)
        while True:
            watching = self.children or time.monotonic() < self.watch_orphans_until
            ready = selector.select(MEMORY_POLL_S if watching else None)
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
            if watching:
                self.police(processes())

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
                self.watch_orphans_until = time.monotonic() + ORPHAN_WATCH_S
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

    def police(self, procs: list[Proc]) -> None:
        """Kill orphans that escaped a job's group, and groups over their memory cap."""
        me = os.getpid()
        usage: dict[int, float] = {}
        for proc in procs:
            usage[proc.pgrp] = usage.get(proc.pgrp, 0.0) + proc.rss_mb
            if proc.ppid == me and proc.pid not in self.children:
                _kill(proc.pid)  # re-parented to us: its job's tree is dead or it left the group
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


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(sock_fd: int) -> None:
    zygote = Zygote(socket.socket(fileno=sock_fd))
    # SIGTERM, not SIGKILL, when the server dies: the handler kills every job's group first.
    # A SIGKILLed zygote would leave each job's own children running (re-parented to init).
    die_with_parent(signal.SIGTERM)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    zygote.serve()
