"""The zygote: a process that has imported torch once and forks a child per job.

Importing torch costs about a second and 200 MB; forking an interpreter that already has
it costs milliseconds. Each job still runs in a fresh process (its own copy of every
module, the harness imported anew), so a call can neither see nor break another's state.

The zygote owns its children. Each child leads its own process group (setsid), so one
killpg reaches everything the user's code spawned, and dies with the zygote
(PR_SET_PDEATHSIG). Where the machine allows it, each child also gets a cgroup of its own
(cgroups.py), which nothing it spawns can leave. A child is forked one job ahead (the
spare): it settles into its cgroup, which can take the kernel tens of milliseconds, while
no call waits, and receives its job's file descriptors when the job comes. When a child exits, the zygote kills what
is left of its group and cgroup *before* reaping it: the unreaped zombie keeps the group id
from being reused, so the kill cannot hit a stranger. It also polls the memory of each
job's tree and kills one that passes its cap. When the server goes away (its socket
closes, or the kernel's parent-death signal arrives), the zygote kills every job and exits.

A process can leave its group (setsid, then a double fork). The zygote is a child
subreaper, so such a process is re-parented to the zygote, not to init, once its parents
die. Every descendant of the zygote that belongs to no running job is an orphan of a job
that ended (or that escaped one): the sweep kills the whole orphan tree at once and looks
again until none is left, so a chain of escapees cannot outrun it.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import pkgutil
import selectors
import signal
import socket
import sys
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field

from ..wire import protocol
from ..wire.messages import Exited, Job, Ready, Started, read
from . import cgroups, checks

MEMORY_POLL_S = 0.1
ORPHAN_WATCH_S = 2.0  # after a job ends or an orphan is killed, how long to keep looking for more
SWEEP_BUDGET_S = 1.0  # one sweep's longest run, so that the zygote keeps answering the server
CGROUP_CLEANUP_S = 1.0  # on shutdown, how long to wait for killed jobs' cgroups to empty and go
PSS_INTERVAL_S = 0.5  # reading smaps_rollup costs ~1 ms a process: a tree of forks is re-read this often,
PSS_CPU_SHARE = 0.05  # and with at most this share of a core
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
    session: int
    rss_mb: float
    zombie: bool


def processes() -> list[Proc]:
    """Every process's parent, group, session and resident memory, from /proc."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        state, ppid, pgrp, session, rss = fields[0], fields[1], fields[2], fields[3], fields[21]
        found.append(Proc(int(entry.name), int(ppid), int(pgrp), int(session), int(rss) * _PAGE_MB, state == b"Z"))
    return found


def pss_mb(pid: int) -> float:
    """Proportional set size: each shared page counts 1/N in each of the N processes mapping it."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


class Tree:
    """The processes below the zygote, indexed by parent."""

    def __init__(self, procs: list[Proc]):
        self.procs = procs
        self.children: dict[int, list[Proc]] = defaultdict(list)
        for proc in procs:
            self.children[proc.ppid].append(proc)

    def below(self, pid: int) -> list[Proc]:
        found, stack = [], [pid]
        while stack:
            for child in self.children.get(stack.pop(), ()):
                found.append(child)
                stack.append(child.pid)
        return found

    def job_members(self, leader: int) -> list[Proc]:
        """A running job's live processes: its descendants, and anything in its group or session."""
        members = {p.pid: p for p in self.below(leader) if not p.zombie}
        members.update({p.pid: p for p in self.procs if leader in (p.pgrp, p.session) and not p.zombie})
        return list(members.values())


def warm_up() -> None:
    """Import torch and what a job always needs, so that every child inherits them.

    torch imports much of itself lazily: the first optimizer step of a fresh process pulls
    in torch._dynamo and some 800 modules with it (sympy among them), over a second of a
    job's time. Importing them here costs the children nothing. Imports only: running a
    torch op would start thread pools that do not survive a fork. Every check too: a job
    that imported its own (lr_sweep's, with the details' dataclasses) spent a third of a
    60 ms call on it."""
    import torch
    import torch._dynamo  # noqa: F401 - what the first optimizer.step() would import

    for module in pkgutil.iter_modules(sys.modules[__package__].__path__):
        importlib.import_module(f"{__package__}.{module.name}")  # job, the checks, what they import
    for name in checks.names():
        checks.load(name)  # the checks, with their details' dataclasses


@dataclass
class Spare:
    """The next job's process, forked ahead of time and waiting in its cgroup.

    Moving a process into a cgroup waits for the kernel (an RCU grace period: 0.3 ms on an
    idle machine, tens of ms on a busy one); the spare pays it while no call waits."""

    pid: int
    cgroup: str | None
    handover: socket.socket  # the job's fds go to the spare over this


@dataclass
class Child:
    job_id: str
    memory_limit_mb: float | None
    cgroup: str | None
    peak_mb: float = 0.0
    killed_for_memory: bool = False
    pss_mb: float = 0.0
    pss_read_at: float = field(default=-1e9)
    pss_cost_s: float = 0.0  # how long the last reading took


def _run_spare(zygote_pid: int, inherited: list, cgroup: str | None, handover: socket.socket) -> None:
    """In the forked spare: become a process-group leader in its own cgroup, wait for a job
    (its fds come over `handover`), wire fds 0/1/2 and run it."""
    code = 70
    try:
        os.setsid()
        die_with_parent()
        if os.getppid() != zygote_pid:
            os._exit(code)  # the zygote died before the parent-death signal was armed
        if cgroup is not None:
            cgroups.enter(cgroup)
        signal.set_wakeup_fd(-1)
        # Drop the zygote's handlers: its SIGTERM handler would make this child kill the
        # process groups of the other jobs it inherited in `children`.
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        for thing in inherited:  # the zygote's socket and wake-up pipe
            thing.close() if isinstance(thing, socket.socket) else os.close(thing)
        _, fds, _, _ = socket.recv_fds(handover, protocol.MAX_DATAGRAM, Job.FDS)
        handover.close()
        if len(fds) != Job.FDS:
            os._exit(0)  # the zygote is shutting down
        request_fd, stdout_w, stderr_w, result_w = fds
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # code that reads stdin gets EOF instead of blocking
        os.dup2(stdout_w, 1)
        os.dup2(stderr_w, 2)
        for fd in (devnull, stdout_w, stderr_w):
            os.close(fd)
        request = protocol.read_request(request_fd)
        from .job import run_job

        code = run_job(request, result_w)
    except BaseException:  # report, then exit without running the zygote's cleanup
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
        self.cgroup_base = cgroups.base_dir()
        self.spare: Spare | None = None
        self.spares_made = 0
        self.dead_cgroups: dict[str, float] = {}  # killed job cgroups to remove, and since when
        self.watch_orphans_until = 0.0
        self.wake = os.pipe()
        for fd in self.wake:
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake[1])
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler must exist for the wakeup byte
        signal.signal(signal.SIGTERM, lambda *_: self.shutdown())

    def serve(self) -> None:
        warm_up()  # the whole point: children inherit torch imported and warmed up
        self._make_spare()
        self._tell(Ready())  # a server already gone: the socket's end of file follows
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ)
        selector.register(self.wake[0], selectors.EVENT_READ)
        while True:
            watching = self.children or self.dead_cgroups or time.monotonic() < self.watch_orphans_until
            ready = selector.select(MEMORY_POLL_S if watching else None)
            for key, _ in ready:
                if key.fileobj is self.sock:
                    message, fds, _, _ = socket.recv_fds(self.sock, protocol.MAX_DATAGRAM, Job.FDS)
                    if not message:
                        self.shutdown()
                    self.start(message, fds)
                else:
                    self._drain_wake()
            self.reap()
            if watching:
                self.police()

    def _drain_wake(self) -> None:
        while True:
            try:
                if not os.read(self.wake[0], 512):
                    return
            except BlockingIOError:
                return

    def start(self, data: bytes, fds: list[int]) -> None:
        try:
            job = read(protocol.decode(data), Job)
        except ValueError:  # not JSON, or not a job message
            job = None
        if job is None or len(fds) != Job.FDS:
            for fd in fds:
                os.close(fd)
            return  # not a job message we sent: the server's wait for "started" times out
        spare = self.spare or self._make_spare()
        try:
            socket.send_fds(spare.handover, [b"job"], fds)
        except OSError:  # the spare died just now (killed from outside): the job goes to a fresh one
            _kill(spare.pid)
            self._drop_spare()
            spare = self._make_spare()
            socket.send_fds(spare.handover, [b"job"], fds)
        finally:
            for fd in fds:
                os.close(fd)
        spare.handover.close()
        self.spare = None
        self.children[spare.pid] = Child(job.id, job.memory_limit_mb, spare.cgroup)
        self._tell(Started(job.id, spare.pid, spare.cgroup))
        self._make_spare()

    def _make_spare(self) -> Spare:
        me = os.getpid()
        self.spares_made += 1
        cgroup = cgroups.create(self.cgroup_base, f"{me}-{self.spares_made}")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            ours.close()
            _run_spare(me, [self.sock, *self.wake], cgroup, theirs)
        theirs.close()
        self.spare = Spare(pid, cgroup, ours)
        return self.spare

    def _tell(self, message: Ready | Started | Exited) -> None:
        try:
            protocol.send(self.sock, message)
        except OSError:
            pass  # the server is gone: shutdown() follows at the socket's end of file

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
                self._end_job(pid, child)
            elif self.spare is not None and pid == self.spare.pid:
                self._drop_spare()  # killed from outside: start() makes another
            _, status, usage = os.wait4(pid, 0)
            if child is not None:
                # A call shorter than one memory poll was never sampled: its own peak is the floor.
                child.peak_mb = max(child.peak_mb, usage.ru_maxrss / 1024)
                returncode = os.waitstatus_to_exitcode(status)
                self._tell(Exited(child.job_id, returncode, round(child.peak_mb, 1), child.killed_for_memory))

    def _drop_spare(self) -> None:
        spare, self.spare = self.spare, None
        spare.handover.close()  # a live spare reads end of file and exits
        if spare.cgroup is not None:
            cgroups.kill(spare.cgroup)
            self.dead_cgroups[spare.cgroup] = time.monotonic()

    def _end_job(self, pid: int, child: Child) -> None:
        """Kill what is left of a job whose leader exited (still a zombie, so `pid` is ours)."""
        _killpg(pid)
        if child.cgroup is not None:
            cgroups.kill(child.cgroup)
            self.dead_cgroups[child.cgroup] = time.monotonic()
        self.watch_orphans_until = time.monotonic() + ORPHAN_WATCH_S

    def police(self) -> None:
        """Kill orphans until none is left, and jobs over their memory cap; remove dead cgroups."""
        tree = self.sweep()
        now = time.monotonic()
        for pid, child in self.children.items():
            self._check_memory(pid, child, tree.job_members(pid), now)
        for path, since in list(self.dead_cgroups.items()):
            if cgroups.remove(path) or now - since > 60:
                del self.dead_cgroups[path]

    def sweep(self) -> Tree:
        """Kill every descendant that belongs to no running job, and look again, until there is none."""
        deadline = time.monotonic() + SWEEP_BUDGET_S
        while True:
            tree = Tree(processes())
            owned = {p.pid for pid in self.children for p in tree.job_members(pid)} | set(self.children)
            owned |= {self.spare.pid} if self.spare else set()
            orphans = [p.pid for p in tree.below(os.getpid()) if p.pid not in owned and not p.zombie]
            if not orphans or time.monotonic() > deadline:
                return tree
            for pid in orphans:
                _kill(pid)
            self.watch_orphans_until = time.monotonic() + ORPHAN_WATCH_S
            self.reap()  # the killed orphans that were our children, and any job that ended meanwhile

    def _check_memory(self, pid: int, child: Child, members: list[Proc], now: float) -> None:
        """The tree's memory: RSS for one process; for several, summed PSS, so that pages
        forks share are counted once, not once per fork."""
        used = sum(p.rss_mb for p in members)
        if len(members) > 1:
            limit = child.memory_limit_mb
            used = min(used, self._tree_pss(child, members, now, urgent=bool(limit and used > limit >= child.pss_mb)))
        child.peak_mb = max(child.peak_mb, used)
        if child.memory_limit_mb and used > child.memory_limit_mb and not child.killed_for_memory:
            child.killed_for_memory = True
            _killpg(pid)
            for member in members:
                _kill(member.pid)
            if child.cgroup is not None:
                cgroups.kill(child.cgroup)

    def _tree_pss(self, child: Child, members: list[Proc], now: float, urgent: bool) -> float:
        """Summed PSS of a job's tree, re-read every PSS_INTERVAL_S (every poll when its RSS says
        it may be over its cap), with at most PSS_CPU_SHARE of a core (5 times that when urgent)."""
        due = max(
            MEMORY_POLL_S if urgent else PSS_INTERVAL_S, child.pss_cost_s / (PSS_CPU_SHARE * (5 if urgent else 1))
        )
        if now - child.pss_read_at >= due:
            began = time.monotonic()
            child.pss_mb = sum(pss_mb(p.pid) for p in members)
            child.pss_read_at, child.pss_cost_s = now, time.monotonic() - began
        return child.pss_mb

    def shutdown(self) -> None:
        self.spare = None  # the sweep spares it no more
        for pid in self.children:
            _killpg(pid)
        self.children.clear()
        for path in cgroups.made_by(os.getpid()):  # every cgroup we made, also one a signal interrupted us making
            cgroups.kill(path)
            self.dead_cgroups.setdefault(path, time.monotonic())
        self.sweep()  # every job and the spare are now orphans: kill the lot, escapees included
        deadline = time.monotonic() + CGROUP_CLEANUP_S
        while self.dead_cgroups and time.monotonic() < deadline:
            self.reap()  # the killed processes, so that their cgroups empty
            self.dead_cgroups = {path: since for path, since in self.dead_cgroups.items() if not cgroups.remove(path)}
            time.sleep(0.01)
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
    # SIGTERM, not SIGKILL, when the server dies: the handler kills every job's tree first.
    # A SIGKILLed zygote would leave each job's own children running (re-parented to init).
    die_with_parent(signal.SIGTERM)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    zygote.serve()
