"""Jobs on a Ray cluster instead of this machine's zygote pool (`--executor ray`).

Each job the server would hand its local pool (one seed of a training run, one chunk of a
grid sweep, one variant of an ablation) becomes one Ray task with declared resources.
Inside the task, on whatever node Ray picks, a one-job local `WorkerPool` (kept warm in the
Ray worker process across tasks) runs the job just as it runs here: a fork of a zygote, its
own process group, memory cap and timeout, so results and findings keep their meaning. The
task is a streaming generator: it yields the job's progress events as they come and ends with
the job's outcome.

The server never imports torch: the task body is this module's torch-free code, and torch
is imported by the zygote the task starts, from the node's own interpreter. `ray` itself is
an optional extra, imported only when the server is started with `--executor ray`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from ..wire.messages import JobRequest, read
from .runner import Outcome, ProgressCallback, Tail, WorkerPool, WorkerStartError

log = logging.getLogger(__name__)

INSTALL_HINT = "--executor ray needs Ray: pip install 'implement-paper-mcp[ray]' (or pip install ray)"
# What never travels with the project to the nodes: our own outputs, environments, VCS data.
EXCLUDES = [".implement-paper/", ".venv/", "venv/", ".git/", "__pycache__/", "*.pt", "*.ckpt"]
CANCEL_GRACE_S = 10.0  # how long a cancelled task may take to end its job before its Ray worker is killed
START_SLACK_S = 120.0  # a task may wait for a node and start an interpreter before its own timeout runs


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None  # None: start a local Ray instance; "auto" or "ray://host:10001": join one
    project_path: str | None = None  # where the project is on every node (a shared filesystem): nothing is uploaded
    num_cpus: int | None = None  # CPUs of a local instance (default: all)


def import_ray():
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(INSTALL_HINT) from exc
    return ray


AUTH_HINT = (
    "the Ray cluster at {address} uses token authentication and refused this server's token (none, or a wrong one): "
    "set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN=<the cluster's token> (or RAY_AUTH_TOKEN_PATH=<a file holding it>) "
    "in the server's environment. An MCP client passes the server only the variables its server entry's \"env\" names. "
    "On the head node, `ray get-auth-token` prints the token."
)


def check_cluster_access(address: str) -> None:
    """Fail at once, naming what to set, when the cluster refuses us: `ray.init` would retry for
    ~20 s, then end the process, and an MCP client would see only a closed connection."""
    ray = import_ray()
    if address.startswith("ray://"):
        return  # a Ray Client server: its own handshake reports a refused token
    from ray._private.authentication.authentication_token_setup import maybe_enable_token_auth_if_token_available
    from ray._private.services import canonicalize_bootstrap_address
    from ray._raylet import GcsClient  # type: ignore[attr-defined,unused-ignore]  # compiled, absent from its stub

    if address == "auto":  # as ray.init does: a cluster found on this machine may use its token file
        maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    try:
        gcs = canonicalize_bootstrap_address(address)
    except (ConnectionError, ValueError):
        return  # no cluster there, or a malformed address: ray.init says so itself
    if gcs is None:
        return
    try:
        GcsClient(address=gcs)  # asks the head for the cluster's id: the first authenticated call
    except ray.exceptions.AuthenticationError as exc:
        raise RuntimeError(AUTH_HINT.format(address=gcs)) from exc


# ------------------------------------------------------------------ the task, on a node


def _node_request(request: dict[str, Any], harness: str, project_path: str | None) -> JobRequest:
    """The request with its paths rewritten for this node (`harness`: relative to the project): the
    project is the task's working directory (uploaded by Ray) unless the server named a shared path."""
    root = project_path or os.getcwd()
    return dataclasses.replace(read(request, JobRequest), root=root, harness=os.path.join(root, harness))


def _outcome_message(outcome: Outcome) -> dict[str, Any]:
    return {
        "type": "outcome",
        "payload": outcome.payload,
        "returncode": outcome.returncode,
        "timed_out": outcome.timed_out,
        "killed_for_memory": outcome.killed_for_memory,
        "peak_rss_mb": outcome.peak_rss_mb,
        "duration_s": outcome.duration_s,
        "stdout": (bytes(outcome.stdout.data), outcome.stdout.total),
        "stderr": (bytes(outcome.stderr.data), outcome.stderr.total),
    }


class NodePool:
    """This Ray worker process's own warm worker pool, kept across the tasks Ray runs in it: a task
    then pays a fork, not an interpreter start and `import torch`. Its event loop runs in a thread
    that lives as long as the process (the zygote's parent-death signal is tied to that thread)."""

    _mine: NodePool | None = None

    @classmethod
    def of_this_process(cls, threads: int) -> NodePool:
        if cls._mine is None:
            cls._mine = cls(threads)
        return cls._mine

    def __init__(self, threads: int):
        self.threads = threads
        self.requests: queue.Queue = queue.Queue()
        threading.Thread(target=anyio.run, args=(self._serve,), name="node-pool", daemon=True).start()

    async def _serve(self) -> None:
        pool = WorkerPool(
            python=sys.executable, root=Path.cwd(), max_workers=1, warm=True, threads_per_worker=self.threads
        )
        async with pool, anyio.create_task_group() as tasks:
            while True:
                tasks.start_soon(self._one, pool, await anyio.to_thread.run_sync(self.requests.get))

    async def _one(self, pool: WorkerPool, job: NodeJob) -> None:
        async def progress(done: float, total: float | None, message: str | None) -> None:
            job.events.put({"type": "progress", "done": done, "total": total, "message": message})

        async def cancel_on_request(scope: anyio.CancelScope) -> None:
            await anyio.to_thread.run_sync(job.cancel.wait, abandon_on_cancel=True)
            scope.cancel()

        # Cancelling pool.run kills the job's group and the zygote sweeps its escapees, as locally.
        async with anyio.create_task_group() as group:
            group.start_soon(cancel_on_request, group.cancel_scope)
            try:
                outcome = await pool.run(
                    job.request,
                    timeout_s=job.timeout_s,
                    memory_limit_mb=job.memory_limit_mb,
                    on_progress=progress,
                    on_data=lambda data: job.events.put({"type": "data", "data": data}),
                )
                job.events.put(_outcome_message(outcome))
            except WorkerStartError as exc:  # the node's interpreter cannot run a worker: as locally
                job.events.put({"type": "failed", "start": True, "message": str(exc)[:2000]})
            except Exception as exc:  # the server must hear why, whatever it was
                job.events.put({"type": "failed", "message": f"{type(exc).__name__}: {exc}"[:2000]})
            group.cancel_scope.cancel()
        if job.cancel.is_set():
            job.events.put({"type": "failed", "message": "cancelled"})


@dataclass
class NodeJob:
    """One job handed to this process's node pool, and the way back."""

    request: JobRequest
    timeout_s: float
    memory_limit_mb: float | None
    events: queue.Queue = dataclasses.field(default_factory=queue.Queue)
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)


def job_events(
    request: dict[str, Any],
    harness: str,
    timeout_s: float,
    memory_limit_mb: float | None,
    project_path: str | None,
    threads: int,
) -> Iterator[dict]:
    """The Ray task: run one job (a JobRequest's fields; its harness path relative to the project) on
    this process's warm pool, yielding progress, then the outcome. Cancelled (Ray raises in here), it
    ends its job on this node, whole tree and escapees, before answering Ray."""
    job = NodeJob(_node_request(request, harness, project_path), timeout_s, memory_limit_mb)
    NodePool.of_this_process(threads).requests.put(job)
    ended = False
    try:
        while not ended:
            event = _next(job.events)
            ended = event["type"] in ("outcome", "failed")
            yield {**event, "node": os.uname().nodename}
    finally:
        if not ended:
            job.cancel.set()
            while _next(job.events)["type"] not in ("outcome", "failed"):
                pass


def _next(events: queue.Queue) -> dict:
    # A short timeout keeps this thread waking, so that Ray's cancel (an interrupt) gets in.
    while True:
        try:
            return events.get(timeout=0.2)
        except queue.Empty:
            pass


# ------------------------------------------------------------------ the server side


def _stage_package() -> str:
    """A copy of our `implement_paper.tools` package for Ray to ship to nodes (py_modules)."""
    staging = Path(tempfile.mkdtemp(prefix="implement-paper-ray-")) / "implement_paper"
    shutil.copytree(
        Path(__file__).resolve().parent.parent, staging / "tools", ignore=shutil.ignore_patterns("__pycache__")
    )
    (staging / "__init__.py").write_text("")
    return str(staging)


def _outcome_of(message: dict[str, Any]) -> Outcome:
    outcome = Outcome(
        payload=message["payload"],
        returncode=message["returncode"],
        timed_out=message["timed_out"],
        killed_for_memory=message["killed_for_memory"],
        peak_rss_mb=message["peak_rss_mb"],
        duration_s=message["duration_s"],
    )
    outcome.stdout, outcome.stderr = Tail.restored(*message["stdout"]), Tail.restored(*message["stderr"])
    return outcome


class RayPool:
    """Runs jobs as Ray tasks; the same `run()` as `WorkerPool`. Use as an async context."""

    # Independent work is split into this many jobs at most: on a cluster, one task per unit
    # (each grid rate its own task); Ray queues what the cluster cannot run at once.
    max_workers = 1024

    def __init__(self, *, root: Path, options: RayOptions, threads_per_job: int = 1):
        self.root = root.resolve()
        self.options = options
        self.threads = threads_per_job
        self._ray: Any = None  # the ray module, once connected (imported only by --executor ray)
        self._task: Any = None
        self._uploads = False  # joined a cluster without a shared project path: tasks carry the project
        self._stop = threading.Event()
        self._owner: threading.Thread | None = None

    async def __aenter__(self) -> RayPool:
        # A local instance's processes die with the *thread* that started them (Ray sets their
        # parent-death signal, which Linux ties to the thread): one thread owns Ray for our lifetime.
        ready = threading.Event()
        failed: list[BaseException] = []
        self._owner = threading.Thread(target=self._own, args=(ready, failed), name="ray-owner", daemon=True)
        self._owner.start()
        await anyio.to_thread.run_sync(ready.wait)
        if failed:
            raise failed[0]
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._stop.set()
        if self._owner is not None:
            await anyio.to_thread.run_sync(self._owner.join)

    def _own(self, ready: threading.Event, failed: list) -> None:
        try:
            self._connect()
        except BaseException as exc:  # handed to __aenter__, which raises it
            failed.append(exc)
            return
        finally:
            ready.set()
        self._stop.wait()
        self._ray.shutdown()

    def _connect(self) -> None:
        ray = import_ray()
        remote = self.options.address is not None
        ray.init(
            # "local", not None: None would join whatever cluster `ray start` last left on this machine.
            address=self.options.address or "local",
            num_cpus=None if remote else self.options.num_cpus,
            # Local directories upload only at the job level (Ray refuses them per task).
            runtime_env={"py_modules": [_stage_package()]} if remote else None,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        self._ray = ray
        self._task = ray.remote(num_returns="streaming", max_retries=0)(job_events)
        self._uploads = remote and self.options.project_path is None
        log.info("ray executor connected: %s", ray.cluster_resources())

    def _project_uri(self) -> str:
        """The project as a package in the cluster's store, by Ray's own packaging (what `ray.init`
        does for a job's working_dir). Asked per task, so a harness the agent edits reaches the nodes
        as edited: an unchanged project hashes to the URI already stored and is not sent again."""
        from ray._private.runtime_env.working_dir import upload_working_dir_if_needed

        env = {"working_dir": str(self.root), "excludes": EXCLUDES}
        return upload_working_dir_if_needed(env, include_gitignore=True, scratch_dir=tempfile.gettempdir(), logger=log)[
            "working_dir"
        ]

    def _submit(self, request: JobRequest, timeout_s: float, memory_limit_mb: float | None):
        relative = os.path.relpath(request.harness, self.root)
        project_path = self.options.project_path or (None if self._uploads else str(self.root))
        options: dict[str, Any] = {"num_cpus": self.threads, "num_gpus": 1 if request.device == "cuda" else 0}
        if self._uploads:
            options["runtime_env"] = {"working_dir": self._project_uri()}
        return self._task.options(**options).remote(
            request.to_dict(), relative, timeout_s, memory_limit_mb, project_path, self.threads
        )

    async def run(
        self,
        request: JobRequest,
        *,
        timeout_s: float,
        memory_limit_mb: float | None = None,
        on_progress: ProgressCallback | None = None,
        on_data: Callable[[dict[str, Any]], None] | None = None,
    ) -> Outcome:
        """Run one job as a Ray task; a lost node or worker becomes an outcome, never an exception."""
        try:
            stream = await anyio.to_thread.run_sync(self._submit, request, timeout_s, memory_limit_mb)
        except Exception as exc:
            if not self._cluster_gone(exc):
                raise
            return self._lost(exc)
        answered = False
        try:
            with anyio.fail_after(timeout_s + START_SLACK_S):
                outcome = await self._follow(stream, on_progress, on_data)
            answered = True
            return outcome
        except TimeoutError:
            return Outcome(timed_out=True)
        finally:
            # Only a task that has not answered is cancelled: a force-cancel that arrives after its
            # task ended can kill the Ray worker in the middle of the next task it picked up.
            if not answered:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._cancel, stream)

    async def _follow(self, stream, on_progress, on_data) -> Outcome:
        node = None
        while True:
            try:
                event = await anyio.to_thread.run_sync(self._next_event, stream, abandon_on_cancel=True)
            except self._ray.exceptions.RayError as exc:
                return self._task_failure(exc, node)
            if event is None:
                return Outcome(node_lost="the Ray task ended without an answer")
            node = event["node"]
            if event["type"] == "progress" and on_progress is not None:
                await on_progress(event["done"], event["total"], event["message"])
            elif event["type"] == "data" and on_data is not None:
                on_data(event["data"])
            elif event["type"] == "failed" and event.get("start"):
                raise WorkerStartError(f"on Ray node {node}: {event['message']}")
            elif event["type"] == "failed":
                return Outcome(task_error=f"the job's Ray task failed on node {node}: {event['message']}"[:2000])
            elif event["type"] == "outcome":
                return _outcome_of(event)

    def _task_failure(self, exc: BaseException, node: str | None) -> Outcome:
        """A Python exception raised in the task is the task's error; only a node, Ray worker or
        raylet that went away is a lost node (or a lost cluster)."""
        where = f" on node {node}" if node else ""
        if isinstance(exc, self._ray.exceptions.RayTaskError):
            cause = exc.cause if isinstance(exc.cause, BaseException) else exc
            return Outcome(task_error=f"the job's Ray task raised{where}: {type(cause).__name__}: {cause}"[:2000])
        if self._cluster_gone(exc):
            return self._lost(exc)
        return Outcome(node_lost=f"the Ray task was lost{where}: {type(exc).__name__}: {exc}"[:2000])

    def _cluster_gone(self, exc: BaseException) -> bool:
        """The raylet this server talks through is dead, or the cluster's head answers no more: every
        later task would fail too, unlike a lost node or Ray worker."""
        if isinstance(exc, (self._ray.exceptions.LocalRayletDiedError, self._ray.exceptions.RaySystemError)):
            return True
        try:
            return not any(node["Alive"] for node in self._ray.nodes())
        except Exception:  # a head that cannot answer is a lost cluster
            return True

    def _cancel(self, stream) -> None:
        """Ask the task to end its job on its node (the job's tree and escapees die there, as
        locally); kill its Ray worker only if it has not ended within CANCEL_GRACE_S. A force-kill
        alone would SIGKILL the node's zygote before it could sweep what the job started."""
        self._ray.cancel(stream, force=False)
        ended, _ = self._ray.wait([stream.completed()], timeout=CANCEL_GRACE_S)
        if not ended:
            self._ray.cancel(stream, force=True)

    @staticmethod
    def _lost(exc: BaseException) -> Outcome:
        return Outcome(cluster_lost=f"the server lost its Ray cluster: {type(exc).__name__}: {exc}"[:2000])

    def _next_event(self, stream) -> dict[str, Any] | None:
        try:
            return self._ray.get(next(stream))
        except StopIteration:
            return None
