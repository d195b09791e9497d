"""What every runner tool shares: the harness arguments, and running a check on a worker.

A runner tool is declared with `harness_tool()`: its name, the worker module that does the
work, an arguments model (a subclass of `HarnessArgs`) and a result model. `execute()`
resolves the harness path inside the project root, runs the check in a worker, and turns
whatever happened (an answer, a timeout, a crash) into the result envelope.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from .envelope import Artifact, Finding, RunInfo, ToolResult, sort_findings, status_of
from .runner import Outcome, ProgressCallback, WorkerPool, WorkerStartError
from .worker.findings import ERROR, finding

if TYPE_CHECKING:
    from .training_jobs import TrainingJobs

TAIL_CHARS = 2000  # of stdout/stderr in the envelope: enough for a traceback, small for a context window


class HarnessArgs(BaseModel):
    """Arguments every runner tool takes (shared/design/contract.md §1)."""

    model_config = ConfigDict(extra="forbid")

    harness: str = Field(
        description="Path of the harness file, relative to the project root (or absolute inside it), "
        "e.g. 'harness.py'. It defines build_model(**model_kwargs) and get_batch(batch_size, split)."
    )
    names: dict[str, str] | None = Field(
        None, description='Rename contract callables, e.g. {"build_model": "make_transformer"}.'
    )
    model_kwargs: dict[str, Any] | None = Field(None, description="Keyword arguments passed to build_model.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seeds torch, numpy and random before build_model.")
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto", description="auto picks an accelerator when the worker has one."
    )
    timeout_s: float | None = Field(
        None, gt=0, le=3600, description="Wall-clock limit for this call; default: the server's --timeout-s."
    )

    def check_args(self) -> dict[str, Any]:
        """The tool's own arguments, as the worker check reads them."""
        return self.model_dump(exclude=set(HarnessArgs.model_fields))


@dataclass
class Runtime:
    """What the tools need from the running server."""

    root: Path
    pool: WorkerPool
    timeout_s: float
    memory_limit_mb: float | None
    jobs: TrainingJobs | None = None  # set by the server's lifespan

    @property
    def output_dir(self) -> Path:
        return self.root / ".implement-paper"


PlotFn = Callable[[ToolResult], list[tuple[str, bytes]]]


@dataclass(frozen=True)
class Tool:
    """A tool as the server registers it. `invoke(args, runtime, progress)` does the work."""

    name: str
    args: type[BaseModel]
    result: type[ToolResult]
    description: str
    invoke: Callable[[Any, Runtime, ProgressCallback | None], Awaitable[ToolResult]]
    plot: PlotFn | None = None  # (file stem, PNG bytes) pairs to return and save next to the result
    read_only: bool = False  # True only for pure computations that write no file
    destructive: bool = False  # True for tools that stop or delete something


def harness_tool(
    name: str, check: str, args: type[HarnessArgs], result: type[ToolResult], description: str, plot: PlotFn | None = None
) -> Tool:
    """A tool that runs the worker module tools/worker/<check>.py on the user's harness."""

    async def invoke(arguments: HarnessArgs, runtime: Runtime, progress: ProgressCallback | None) -> ToolResult:
        return await execute(check, name, result, arguments, runtime, progress)

    return Tool(name=name, args=args, result=result, description=description, invoke=invoke, plot=plot)


class PathOutsideRoot(ValueError):
    pass


def resolve_in_root(root: Path, path: str) -> Path:
    """The real path of `path` (relative to root, or absolute), refused unless inside root.

    Symlinks are resolved first, so a link that points out of the root is refused too."""
    candidate = (root / path).resolve()
    real_root = root.resolve()
    if candidate != real_root and real_root not in candidate.parents:
        raise PathOutsideRoot(f"{path!r} resolves to {candidate}, outside the project root {real_root}")
    return candidate


def locate_harness(runtime: Runtime, path: str) -> Path | dict[str, Any]:
    """The harness file's real path inside the root, or the harness_error finding saying why not."""
    try:
        harness = resolve_in_root(runtime.root, path)
    except PathOutsideRoot as exc:
        return finding("harness_error", ERROR, f"refused: {exc}", where=path)
    if not harness.is_file():
        return finding(
            "harness_error",
            ERROR,
            f"harness file {path!r} not found under the project root {runtime.root}",
            where=path,
            suggestion="Pass a path relative to the root the server was started with (--root).",
        )
    return harness


def error_result(result_type: type[ToolResult], item: dict[str, Any], started: float) -> ToolResult:
    found = Finding.model_validate(item)
    return result_type(
        status=status_of([found]), summary=found.message, findings=[found], run=RunInfo(duration_s=round(time.perf_counter() - started, 3))
    )


def _failure_finding(outcome: Outcome, timeout_s: float, memory_limit_mb: float | None) -> dict[str, Any]:
    """Why a job gave no answer."""
    if outcome.timed_out:
        return finding(
            "timeout",
            ERROR,
            f"the run passed timeout_s={timeout_s:g}; its whole process tree was killed",
            suggestion="Pass a larger timeout_s, fewer steps or a smaller batch; look at stdout_tail for where it was.",
        )
    if outcome.killed_for_memory:
        return finding(
            "out_of_memory",
            ERROR,
            f"the run passed its memory cap of {memory_limit_mb:g} MB (peak {outcome.peak_rss_mb} MB) and was killed",
            evidence={"peak_rss_mb": outcome.peak_rss_mb, "limit_mb": memory_limit_mb},
            suggestion="Use a smaller batch_size or model, or start the server with a larger --memory-limit-mb.",
        )
    if outcome.failure is not None:
        return finding("crashed", ERROR, outcome.failure, suggestion="Run it again; if it repeats, check the node's logs.")
    code = outcome.returncode
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        message = f"the worker died from signal {name} (the user's code crashed the interpreter, e.g. a segfault or abort)"
    else:
        message = (
            f"the worker exited with code {code} before answering: the code called os._exit(), or closed "
            "the worker's result pipe (os.closerange over every fd)"
        )
    return finding("crashed", ERROR, message, evidence={"returncode": code}, suggestion="See stderr_tail for the last words.")


def _save_report(runtime: Runtime, tool: str, full: dict[str, Any]) -> Artifact:
    folder = runtime.output_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{tool}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}.json"
    path.write_text(json.dumps(full, indent=1))
    return Artifact(kind="report", path=str(path.relative_to(runtime.root)), description="full detail of this call")


def build_result(
    name: str, result_type: type[ToolResult], outcome: Outcome, runtime: Runtime, args: HarnessArgs, timeout_s: float
) -> ToolResult:
    payload = outcome.payload or {}
    run_info = payload.get("run", {})
    run = RunInfo(
        duration_s=round(outcome.duration_s, 3),
        device=run_info.get("device"),
        python=run_info.get("python"),
        torch_version=run_info.get("torch_version"),
        seed=args.seed,
        stdout_tail=outcome.stdout.text(TAIL_CHARS),
        stderr_tail=outcome.stderr.text(TAIL_CHARS),
        peak_rss_mb=outcome.peak_rss_mb,
    )
    if outcome.payload is None:
        found = Finding.model_validate(_failure_finding(outcome, timeout_s, runtime.memory_limit_mb))
        return result_type(status=status_of([found]), summary=found.message, findings=[found], run=run)
    findings = sort_findings([Finding.model_validate(f) for f in payload["findings"]])
    artifacts = [_save_report(runtime, name, payload["full_report"])] if payload.get("full_report") else []
    return result_type(
        status=status_of(findings),
        summary=payload["summary"],
        findings=findings,
        details=payload.get("details"),
        run=run,
        artifacts=artifacts,
    )


async def execute(
    check: str,
    name: str,
    result_type: type[ToolResult],
    args: HarnessArgs,
    runtime: Runtime,
    progress: ProgressCallback | None,
    on_data: Callable[[dict[str, Any]], None] | None = None,
) -> ToolResult:
    """Run worker check `check` on the harness `args` names; always returns an envelope."""
    started = time.perf_counter()
    harness = locate_harness(runtime, args.harness)
    if isinstance(harness, dict):
        return error_result(result_type, harness, started)
    timeout_s = args.timeout_s or runtime.timeout_s
    request = {
        "check": check,
        "harness": str(harness),
        "root": str(runtime.root.resolve()),
        "names": args.names,
        "model_kwargs": args.model_kwargs,
        "seed": args.seed,
        "device": args.device,
        "args": args.check_args(),
    }
    try:
        outcome = await runtime.pool.run(
            request,
            timeout_s=timeout_s,
            memory_limit_mb=runtime.memory_limit_mb,
            on_progress=progress,
            on_data=on_data,
        )
    except WorkerStartError as exc:
        return error_result(
            result_type,
            finding(
                "worker_start_failed",
                ERROR,
                str(exc),
                suggestion="Start the server with --python pointing at an interpreter that has torch installed.",
            ),
            started,
        )
    return build_result(name, result_type, outcome, runtime, args, timeout_s)
