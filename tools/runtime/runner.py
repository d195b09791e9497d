"""The server side of the worker: owns the zygote processes and runs jobs on them.

`WorkerPool` is created and closed by the server's lifespan. `run()` sends one job to a
zygote (tools/worker/zygote.py), which forks a child for it; we relay the child's
progress, keep the tails of its stdout/stderr, and enforce the wall-clock limit. On
timeout or cancellation the child's whole process group (and cgroup) is killed before
`run()` returns or re-raises. If the zygote itself dies, we kill what its jobs left and
say so. Everything a worker sends is read with tools/wire/messages.py: a line that is not
JSON, a message without its keys, becomes a problem the result reports, never an exception
in the server.
Nothing here imports torch: that happens in the zygote.

Warm mode keeps one zygote alive (started in the background at start-up, restarted if it
dies), so a call pays a fork instead of an interpreter start and `import torch`. Cold
mode starts a zygote per call and closes it after: slower, but nothing outlives a call.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import anyio
from anyio.abc import Process

from ..wire import protocol
from ..wire.messages import Exited, Job, JobRequest, MessageError, Progress, Ready, Result, Started, read
from ..worker import cgroups
from ..worker.threads import usable_cores
from .signals import signal_name

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, float | None, str | None], Awaitable[None]]

TOOLS_DIR = Path(__file__).resolve().parent.parent
TAIL_BYTES = 64 * 1024  # kept per stream; the envelope shows less, the byte count says how much there was
START_TIMEOUT_S = 120.0  # a cold `import torch` on a loaded 2-core machine can take many seconds
PIPE_GRACE_S = 0.5  # after the child exits, how long its pipes may stay open (escaped grandchildren)
MAX_LINE_BYTES = 64 * 2**20  # a result line longer than this is not ours: it is dropped, and said so
# Training seeds hold a worker for minutes or hours: they run in a lane of their own, so a tool
# call never waits behind them (with --max-workers 1 as well).
TRAINING_CHECKS = frozenset({"training"})
# OpenMP threads that spin between ops take the cores other processes (and our other jobs) need;
# passive threads sleep at once. Set before the zygote imports torch; the user's setting wins.
WORKER_ENV = {"PYTHONUNBUFFERED": "1"}
WORKER_ENV_DEFAULTS = {"OMP_WAIT_POLICY": "PASSIVE"}

# Loads our worker package under its own name from TOOLS_DIR, whatever the interpreter
# has installed: the user's `--python` needs only torch and numpy, and a user package
# called `tools` or `server` cannot shadow ours.
BOOTSTRAP = """\
import importlib.util, sys, types
tools_dir, sock_fd = sys.argv[1], int(sys.argv[2])
sys.modules.setdefault("implement_paper", types.ModuleType("implement_paper")).__path__ = []
spec = importlib.util.spec_from_file_location(
    "implement_paper.tools", tools_dir + "/__init__.py", submodule_search_locations=[tools_dir])
package = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = package
spec.loader.exec_module(package)
from implement_paper.tools.worker.zygote import main
main(sock_fd)
"""


class WorkerStartError(RuntimeError):
    """The worker interpreter could not start (no torch there, a bad --python, ...)."""


class Tail:
    """The last TAIL_BYTES of a stream, and how many bytes it carried in all."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.total = 0

    @classmethod
    def restored(cls, data: bytes, total: int) -> Tail:
        """A tail as another process kept it (a Ray task's job): its bytes and its count."""
        tail = cls()
        tail.add(data)
        tail.total = total
        return tail

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self.data += chunk
        del self.data[:-TAIL_BYTES]

    def text(self, limit: int) -> str:
        text = self.data.decode(errors="replace")
        if len(text) > limit or self.total > len(self.data):
            return (
                f"[... {self.total} bytes in all, last {min(limit, len(text))} characters follow ...]\n" + text[-limit:]
            )
        return text


@dataclass
class Outcome:
    """How a job ended. `payload` is the check's answer, None when it never came."""

    payload: dict[str, Any] | None = None
    returncode: int | None = None
    timed_out: bool = False
    killed_for_memory: bool = False
    peak_rss_mb: float | None = None
    duration_s: float = 0.0
    queued_s: float = 0.0  # waited for a free worker (and for it to start) before the job ran
    stdout: Tail = field(default_factory=Tail)
    stderr: Tail = field(default_factory=Tail)
    threads: int | None = None
    worker_lost: str | None = None  # the zygote died, or the job could not reach it: not the user's doing
    node_lost: str | None = None  # --executor ray: the task's node or Ray worker died (the job's seed crashed)
    cluster_lost: str | None = None  # --executor ray: the server's link to the cluster is gone (no task can run)
    task_error: str | None = None  # --executor ray: the task's own code raised on its node (its node lives on)
    problems: list[str] = field(default_factory=list)  # what the job sent that we could not read


@dataclass
class _Job:
    id: str
    started: anyio.Event = field(default_factory=anyio.Event)
    exited: anyio.Event = field(default_factory=anyio.Event)
    pid: int | None = None
    cgroup: str | None = None
    exit: Exited | None = None
    lost: str | None = None

    def kill_tree(self) -> None:
        """SIGKILL the job's process group and cgroup (the zygote cannot any more)."""
        if self.pid is not None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.cgroup is not None:
            cgroups.kill(self.cgroup)


async def _read_available(fd: int) -> bytes:
    """Wait until fd is readable and read what is there; b"" at end of file."""
    while True:
        await anyio.wait_readable(fd)
        try:
            return os.read(fd, 65536)
        except BlockingIOError:
            continue


class ZygoteProcess:
    """One zygote process and the socket we talk to it over."""

    def __init__(self, python: str, root: Path):
        self.python = python
        self.root = root
        self.ready = anyio.Event()
        self.jobs: dict[str, _Job] = {}
        self.dead = False
        self.start_error: str | None = None
        self._process: Process | None = None
        self._sock: socket.socket | None = None
        self._stderr = Tail()

    async def run(self, *, task_status=anyio.TASK_STATUS_IGNORED) -> None:
        """Start the process and serve its messages until it ends. Run in a task group."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        self._sock = ours
        try:
            self._process = await anyio.open_process(
                [self.python, "-c", BOOTSTRAP, str(TOOLS_DIR), str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(),),
                cwd=self.root,
                env={**WORKER_ENV_DEFAULTS, **os.environ, **WORKER_ENV},
                start_new_session=True,
            )
        except OSError as exc:
            self._fail(f"cannot start the worker interpreter {self.python!r}: {exc}")
            task_status.started()
            return
        finally:
            theirs.close()
        task_status.started()
        async with anyio.create_task_group() as tg:
            stderr_closed = anyio.Event()
            tg.start_soon(self._drain_stderr, stderr_closed)
            try:
                await self._serve()
                with anyio.move_on_after(1):  # the process is ending: let its last words and status arrive
                    await stderr_closed.wait()
                    await self._process.wait()
            finally:
                tg.cancel_scope.cancel()
                self._fail(None)
                with anyio.CancelScope(shield=True):
                    await self._stop_process()
                    await _remove_cgroups(self._process.pid)

    async def _drain_stderr(self, closed: anyio.Event) -> None:
        async for chunk in self._process.stderr:
            self._stderr.add(chunk)
            log.debug("zygote stderr: %s", chunk.decode(errors="replace").rstrip())
        closed.set()

    async def _serve(self) -> None:
        while True:
            await anyio.wait_readable(self._sock)
            try:
                data = self._sock.recv(protocol.MAX_DATAGRAM)
            except BlockingIOError:
                continue
            except OSError:
                return  # ECONNRESET: the zygote died
            if not data:
                return
            try:
                self._handle(read(protocol.decode(data), Ready, Started, Exited))
            except ValueError as exc:  # not JSON, or not a message of ours (MessageError)
                log.warning("ignored a malformed message from the zygote (%s): %r", exc, data[:200])

    def _handle(self, message: Ready | Started | Exited) -> None:
        if isinstance(message, Ready):
            self.ready.set()
        elif isinstance(message, Started) and (job := self.jobs.get(message.id)):
            job.pid, job.cgroup = message.pid, message.cgroup
            job.started.set()
        elif isinstance(message, Exited) and (job := self.jobs.pop(message.id, None)):
            job.exit = message
            job.exited.set()

    def _fail(self, reason: str | None) -> None:
        """The zygote is gone: kill what its jobs left, and wake everyone who waits on it."""
        self.dead = True
        if not self.ready.is_set():
            self.start_error = reason or (
                f"the worker interpreter {self.python!r} exited while starting:\n{self._stderr.text(2000)}"
            )
            self.ready.set()
        for job in self.jobs.values():
            job.lost = self._death()
            job.kill_tree()
            job.started.set()
            job.exited.set()
        self.jobs.clear()

    def _death(self) -> str:
        code = self._process.returncode if self._process is not None else None
        how = _exit_description(code) if code is not None else "stopped answering"
        pid = self._process.pid if self._process is not None else "?"
        return f"the worker process that runs the calls (the zygote, pid {pid}) {how} while this call ran"

    async def _stop_process(self) -> None:
        if self._sock is not None:
            self._sock.close()  # the zygote kills its children and exits on EOF
        if self._process is None:
            return
        with anyio.move_on_after(3):
            await self._process.wait()
            return
        self._process.kill()
        await self._process.wait()

    async def wait_ready(self) -> None:
        with anyio.move_on_after(START_TIMEOUT_S):
            await self.ready.wait()
        if self.start_error or not self.ready.is_set() or self.dead:
            raise WorkerStartError(
                self.start_error
                or f"the worker interpreter {self.python!r} did not start within {START_TIMEOUT_S:.0f} s"
            )

    def submit(self, job: _Job, request: JobRequest, memory_limit_mb: float | None, fds: list[int]) -> None:
        """Send a job; its request travels as a file (any size), its output fds with it."""
        if self.dead:
            raise ConnectionError("the zygote has died")
        request_fd = protocol.request_file(request)
        try:
            protocol.send(self._sock, Job(job.id, memory_limit_mb), [request_fd, *fds])
        finally:
            os.close(request_fd)
        self.jobs[job.id] = job


def _submit(zygote: ZygoteProcess, job: _Job, request: JobRequest, memory_limit_mb: float | None) -> tuple[int, ...]:
    """Hand the job to the zygote with the write ends of its stdout, stderr and result
    pipes; return the read ends (non-blocking). A job that cannot be handed over is lost."""
    pipes = [os.pipe() for _ in range(3)]
    for read_end, _ in pipes:
        os.set_blocking(read_end, False)
    try:
        zygote.submit(job, request, memory_limit_mb, [write_end for _, write_end in pipes])
    except OSError as exc:  # the zygote died just now, or the request could not be written
        job.lost = f"the call could not be handed to the worker process: {exc}"
        job.started.set()
        job.exited.set()
    finally:
        for _, write_end in pipes:
            os.close(write_end)
    return tuple(read_end for read_end, _ in pipes)


def _exit_description(code: int) -> str:
    if code < 0:
        name = signal_name(-code)
        return f"was killed by {name}"
    return f"exited with code {code}"


async def _remove_cgroups(zygote_pid: int) -> None:
    """Kill and remove what cgroups a stopped zygote left (it removes them itself unless it
    was killed, or stopped in the middle of making one)."""
    paths = cgroups.made_by(zygote_pid)
    for path in paths:
        cgroups.kill(path)
    with anyio.move_on_after(2):
        while paths := [path for path in paths if not cgroups.remove(path)]:
            await anyio.sleep(0.05)


class Executor(Protocol):
    """Where a job runs: this machine's WorkerPool, or a RayPool (--executor ray, tools/runtime/ray_pool.py)."""

    max_workers: int  # how many jobs independent work is split into at most

    async def run(
        self,
        request: JobRequest,
        *,
        timeout_s: float,
        memory_limit_mb: float | None = None,
        on_progress: ProgressCallback | None = None,
        on_data: Callable[[dict[str, Any]], None] | None = None,
    ) -> Outcome:
        """Run one job to its Outcome; raises WorkerStartError when no worker can be started at all."""
        ...


class WorkerPool:
    """Runs jobs on zygotes, at most `max_workers` at a time. Use as an async context."""

    def __init__(
        self,
        *,
        python: str | Callable[[], str] | None = None,
        root: Path,
        max_workers: int = 2,
        warm: bool = True,
        threads_per_worker: int | None = None,
    ):
        # A callable `python` is asked at each zygote start (it may raise WorkerStartError), so an
        # environment the user makes after start-up is found without restarting the server.
        self.python = python or sys.executable
        self.root = root
        self.max_workers = max_workers
        self.warm = warm
        self.threads_per_worker = threads_per_worker
        self.limiter = anyio.CapacityLimiter(max_workers)  # tool calls (and what they fan out)
        self.training_limiter = anyio.CapacityLimiter(max_workers)  # training seeds: a lane of their own
        self._ids = itertools.count()
        self._tg: anyio.abc.TaskGroup | None = None
        self._warm_zygote: ZygoteProcess | None = None
        self._warm_start = anyio.Lock()  # one restart at a time: the interpreter search awaits

    async def __aenter__(self) -> WorkerPool:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        if self.warm:
            try:
                await self._start_warm()
            except WorkerStartError:
                pass  # no interpreter yet: the first call reports why, and tries again
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._tg.cancel_scope.cancel()
        await self._tg.__aexit__(*exc_info)

    async def _start_warm(self) -> None:
        self._warm_zygote = ZygoteProcess(await self._interpreter(), self.root)
        await self._tg.start(self._warm_zygote.run)

    async def _interpreter(self) -> str:
        # The search may start interpreters to probe them: in a thread, so other calls go on meanwhile.
        return await anyio.to_thread.run_sync(self.python) if callable(self.python) else self.python

    def threads_per_job(self) -> int:
        """Torch intra-op threads per job, or their ceiling: the cores this process may use (affinity,
        cgroup quota), shared among --max-workers parallel jobs so that they do not oversubscribe them.
        Unless pinned, each job fits it to the load at its start (worker/threads.py)."""
        if self.threads_per_worker:
            return self.threads_per_worker
        return max(1, usable_cores() // self.max_workers)

    async def _ready_warm_zygote(self) -> ZygoteProcess:
        """The shared zygote, restarted if it died (killed by hand, or out of memory)."""
        async with self._warm_start:
            if self._warm_zygote is None or self._warm_zygote.dead:
                await self._start_warm()
        await self._warm_zygote.wait_ready()
        return self._warm_zygote

    async def run(
        self,
        request: JobRequest,
        *,
        timeout_s: float,
        memory_limit_mb: float | None = None,
        on_progress: ProgressCallback | None = None,
        on_data: Callable[[dict[str, Any]], None] | None = None,
    ) -> Outcome:
        """Run one job. Raises WorkerStartError when no worker can be started at all.

        `on_progress` gets each progress event, and one when the job starts after its wait for a
        worker; `on_data` the numbers some events carry. timeout_s counts from that start."""
        request = dataclasses.replace(request, threads=self.threads_per_job(), auto_threads=not self.threads_per_worker)
        limiter = self.training_limiter if request.check in TRAINING_CHECKS else self.limiter
        if limiter.available_tokens == 0 and on_progress is not None:
            waiting = limiter.statistics().tasks_waiting + 1
            await on_progress(0, None, f"queued: {waiting} call(s) wait for one of {self.max_workers} workers")
        arrived = time.perf_counter()
        async with limiter:
            if self.warm:
                zygote = await self._ready_warm_zygote()
                return await self._run_on(zygote, request, timeout_s, memory_limit_mb, on_progress, on_data, arrived)
            python = await self._interpreter()  # outside the task group, which would wrap its error
            async with anyio.create_task_group() as tg:
                zygote = ZygoteProcess(python, self.root)
                await tg.start(zygote.run)
                try:
                    await zygote.wait_ready()
                    return await self._run_on(
                        zygote, request, timeout_s, memory_limit_mb, on_progress, on_data, arrived
                    )
                finally:
                    tg.cancel_scope.cancel()

    async def _run_on(
        self,
        zygote: ZygoteProcess,
        request: JobRequest,
        timeout_s: float,
        memory_limit_mb: float | None,
        on_progress: ProgressCallback | None,
        on_data: Callable[[dict[str, Any]], None] | None,
        arrived: float,
    ) -> Outcome:
        started = time.perf_counter()
        outcome = Outcome(threads=request.threads, queued_s=started - arrived)
        if on_progress is not None:
            await on_progress(0, None, f"started on a worker after waiting {outcome.queued_s:.1f} s")
        job = _Job(str(next(self._ids)))
        stdout_r, stderr_r, result_r = _submit(zygote, job, request, memory_limit_mb)
        readers_done = [anyio.Event() for _ in range(3)]
        try:
            with anyio.move_on_after(timeout_s) as deadline:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._drain, stdout_r, outcome.stdout.add, readers_done[0])
                    tg.start_soon(self._drain, stderr_r, outcome.stderr.add, readers_done[1])
                    tg.start_soon(self._read_results, result_r, outcome, on_progress, on_data, readers_done[2])
                    await job.exited.wait()
                    # The pipes reach EOF once the group is dead; a grandchild that escaped
                    # the group (setsid) could hold them open forever, so wait only briefly.
                    with anyio.move_on_after(PIPE_GRACE_S):
                        for done in readers_done:
                            await done.wait()
                    tg.cancel_scope.cancel()
            outcome.timed_out = deadline.cancelled_caught
        finally:
            with anyio.CancelScope(shield=True):
                await self._kill(job)
                for fd in (stdout_r, stderr_r, result_r):
                    os.close(fd)
        outcome.duration_s = time.perf_counter() - started
        outcome.worker_lost = job.lost
        if job.exit is not None:
            outcome.returncode = job.exit.returncode
            outcome.killed_for_memory = job.exit.killed_for_memory
            outcome.peak_rss_mb = job.exit.peak_rss_mb
        return outcome

    async def _drain(self, fd: int, sink: Callable[[bytes], None], done: anyio.Event) -> None:
        while chunk := await _read_available(fd):
            sink(chunk)
        done.set()

    async def _read_results(
        self,
        fd: int,
        outcome: Outcome,
        on_progress: ProgressCallback | None,
        on_data: Callable[[dict[str, Any]], None] | None,
        done: anyio.Event,
    ) -> None:
        buffer, dropping = bytearray(), False  # the line so far; dropping: the rest of one too long
        while chunk := await _read_available(fd):
            *ended, start = chunk.split(b"\n")  # split the chunk only: a long line costs O(its length)
            if ended:
                lines = ([] if dropping else [bytes(buffer) + ended[0]]) + ended[1:]
                buffer, dropping = bytearray(start), False
                for line in lines:
                    await self._take(line, outcome, on_progress, on_data)
            elif not dropping:
                buffer += start
            if len(buffer) > MAX_LINE_BYTES:
                outcome.problems.append(f"a line of over {MAX_LINE_BYTES >> 20} MiB on the result pipe was dropped")
                buffer, dropping = bytearray(), True
        done.set()

    async def _take(
        self,
        line: bytes,
        outcome: Outcome,
        on_progress: ProgressCallback | None,
        on_data: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        """One message from the job: a result, or progress. Anything else is noted, not raised."""
        try:
            data = protocol.decode(line)
        except ValueError as exc:
            outcome.problems.append(f"a line on the result pipe is not JSON ({exc}): {line[:200]!r}")
            return
        try:
            message = read(data, Progress, Result)
        except MessageError as exc:
            outcome.problems.append(f"an unreadable message on the result pipe ({exc}): {line[:200]!r}")
            return
        if isinstance(message, Result):
            outcome.payload = message.payload
            return
        if on_data is not None and message.data is not None:
            on_data(message.data)
        if on_progress is not None:
            await on_progress(message.done, message.total, protocol.clip_strings(message.message, 500))

    async def _kill(self, job: _Job) -> None:
        """Kill the job's process group and wait for the zygote to reap it."""
        if not job.started.is_set():
            with anyio.move_on_after(5):
                await job.started.wait()
        if job.pid is not None and not job.exited.is_set():
            job.kill_tree()
            with anyio.move_on_after(5):
                await job.exited.wait()
