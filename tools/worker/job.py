"""One job, run in a forked child of the zygote: load the harness, run one check, answer.

A check is a module of this package with `run(ctx: JobContext[ItsRequest]) -> dict` returning the fields
of a `messages.Answer`: `{"summary": str, "findings": [finding, ...], "details": {...}}`, its
findings in `findings.sort_findings` order when the summary quotes the first. Whatever goes
wrong (a request that does not read as a `JobRequest`, or its `args` as the check's request
type, too) becomes a finding in that same shape, so the server always gets an answer it can read.
"""

from __future__ import annotations

import fcntl
import os
import platform
import random
import resource
import sys
import time
from typing import Any, Generic, TypeVar

import numpy as np
import torch

from ..wire import protocol
from ..wire.findings import ERROR, finding
from ..wire.messages import JobRequest, Message, MessageError, Progress, Result, check_request, read
from . import checks
from .failures import DeviceUnavailable, HarnessError, exception_finding
from .harness import Harness, to_device
from .threads import Trial, start_threads

PROGRESS_INTERVAL_S = 0.25  # the server relays progress; more often would only cost JSON
RESULT_FD_CEILING = 1 << 16  # the kernel allocates the fd table up to the highest fd used: stay modest

R = TypeVar("R", bound=Message)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable("device 'cuda' was asked for, but torch sees no CUDA device on the worker")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise DeviceUnavailable("device 'mps' was asked for, but torch sees no MPS device on the worker")
    return torch.device(name)


class JobContext(Generic[R]):
    """What a check gets: its typed arguments `req` (messages.CHECK_REQUESTS), the loaded harness, the device,
    progress."""

    def __init__(self, request: JobRequest, req: R, result_fd: int):
        self.request = request
        self.req = req
        self.root: str = request.root
        self.seed: int = request.seed
        self.model_kwargs: dict[str, Any] = request.model_kwargs or {}
        self.device = resolve_device(request.device)
        self._result_fd = result_fd
        self._last_progress = 0.0
        self.harness = Harness(request.harness, request.names)
        # Only a CPU job's speed depends on its intra-op threads; a pinned count is not second-guessed.
        trial = request.auto_threads and self.device.type == "cpu"
        self.threads = Trial(torch.get_num_threads() if trial else 1, torch.set_num_threads)

    def progress(
        self,
        done: float,
        total: float | None = None,
        message: str | None = None,
        *,
        data: dict[str, Any] | None = None,
        force: bool = False,
    ) -> None:
        """Report progress (throttled). `data` carries numbers for the server, e.g. a partial curve."""
        now = time.monotonic()
        if force or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            protocol.write_line(self._result_fd, Progress(done, total, message, data or None))

    def build_model(self, **overrides: Any) -> torch.nn.Module:
        """A freshly initialised model: seeded, so every call gives the same weights."""
        seed_everything(self.seed)
        return self.harness.build_model(**{**self.model_kwargs, **overrides}).to(self.device)

    def batch(self, batch_size: int, split: str = "train") -> Any:
        return to_device(self.harness.get_batch(batch_size, split), self.device)

    def train_batch(
        self, batch_size: int, step: int, model: torch.nn.Module | None = None, seed: int | None = None
    ) -> Any:
        """Training data for `step`; an on-policy get_train_batch gets the current model, one with a
        `seed` parameter the seed it trains from (the job's unless given: an ablation trains several)."""
        return to_device(
            self.harness.train_batch(batch_size, step, model, self.seed if seed is None else seed), self.device
        )

    def optimizer_for(self, model: torch.nn.Module, lr: float, total_steps: int) -> tuple[torch.optim.Optimizer, Any]:
        """The harness's optimizer at `lr` and its scheduler (or None) for a run of `total_steps`."""
        optimizer = self.harness.make_optimizer(model.parameters(), lr)
        return optimizer, self.harness.make_scheduler(optimizer, total_steps)

    def error_finding(self, exc: BaseException, during: str | None = None) -> dict[str, Any]:
        if isinstance(exc, (HarnessError, DeviceUnavailable)):
            return exc.to_finding()
        return exception_finding(exc, self.root, during=during)


def _run_info(request: JobRequest, device: str | None) -> dict[str, Any]:
    # Threads read after the check: the harness (or the thread trial) may have changed them.
    return {
        "device": device,
        "python": platform.python_version(),
        "torch_version": torch.__version__,
        "seed": request.seed,
        "threads": torch.get_num_threads(),
    }


def _failed(finding: dict[str, Any]) -> dict[str, Any]:
    return {"summary": finding["message"], "findings": [finding], "details": None}


def _highest_fd() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = RESULT_FD_CEILING
    return max(3, min(soft, RESULT_FD_CEILING) - 1)


def _bad_request(problem: MessageError) -> dict[str, Any]:
    return _failed(
        finding(
            "internal_error",
            ERROR,
            f"the worker could not read its job request: {problem}",
            suggestion="This is a bug in implement-paper-mcp (the server and worker disagree): report it.",
        )
    )


def run_job(data: Any, result_fd: int) -> int:
    """Run the requested check and write exactly one result message. Returns the exit code."""
    # Keep the result pipe out of the way of user code that closes or reuses fds: put it
    # as high as the fd limit allows, so even a daemon-style os.closerange(3, 1024) misses it.
    high_fd = fcntl.fcntl(result_fd, fcntl.F_DUPFD_CLOEXEC, _highest_fd())
    os.close(result_fd)
    try:
        request = read(data, JobRequest)
        req = check_request(request)
    except MessageError as exc:
        protocol.write_line(high_fd, Result(_bad_request(exc)))
        return 0
    threads = max(1, request.threads)
    torch.set_num_threads(start_threads(threads) if request.auto_threads else threads)
    os.chdir(request.root)
    started = time.perf_counter()
    device = None
    try:
        ctx = JobContext(request, req, high_fd)
        device = str(ctx.device)
        payload = checks.load(request.check).run(ctx)
    except (HarnessError, DeviceUnavailable) as exc:
        payload = _failed(exc.to_finding())
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from user code too
        payload = _failed(
            exception_finding(exc, request.root, during="loading the harness" if device is None else None)
        )
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    payload["run"] = {**_run_info(request, device), "duration_s": round(time.perf_counter() - started, 3)}
    protocol.write_line(high_fd, Result(payload))
    return 0
