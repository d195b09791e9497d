"""What every runner tool shares: the harness arguments, and running a check on a worker.

A runner tool is declared with `harness_tool()`: its name, the worker module that does the
work, an arguments model (a subclass of `HarnessArgs`) and a result model. `execute()`
resolves the harness path inside the project root, runs the check in a worker, and turns
whatever happened (an answer, a timeout, a crash) into the result envelope. What the worker
answered is checked like any outside input: strings are cut to a readable length, and an
answer that does not fit the result model becomes an `internal_error` finding saying why.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .envelope import Artifact, Finding, RunInfo, ToolResult, sort_findings, status_of
from .runner import Outcome, ProgressCallback, WorkerPool, WorkerStartError
from .worker.findings import ERROR, finding
from .worker.protocol import clip_strings, encode

if TYPE_CHECKING:
    from .training_jobs import TrainingJobs

TAIL_CHARS = 2000  # of stdout/stderr in the envelope: enough for a traceback, small for a context window
NAME_MAX_BYTES = 255  # of one path component or callable name, as file systems allow
PATH_MAX_BYTES = 4096
MODEL_KWARGS_MAX_BYTES = 32 * 2**20  # JSON size; larger data belongs in a file the harness reads


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

    @field_validator("harness")
    @classmethod
    def _a_path_name(cls, path: str) -> str:
        if "\x00" in path:
            raise ValueError("a path cannot contain a NUL character")
        if len(path.encode()) > PATH_MAX_BYTES:
            raise ValueError(f"the path is over {PATH_MAX_BYTES} bytes")
        if any(len(part.encode()) > NAME_MAX_BYTES for part in path.split("/")):
            raise ValueError(f"a path component is over {NAME_MAX_BYTES} bytes, longer than any file name can be")
        return path

    @field_validator("names")
    @classmethod
    def _callable_names(cls, names: dict[str, str] | None) -> dict[str, str] | None:
        for role, name in (names or {}).items():
            if not name.isidentifier() or len(name.encode()) > NAME_MAX_BYTES:
                raise ValueError(f"names[{role[:40]!r}] must be a Python identifier of at most {NAME_MAX_BYTES} bytes")
        return names

    @field_validator("model_kwargs")
    @classmethod
    def _model_kwargs_size(cls, kwargs: dict[str, Any] | None) -> dict[str, Any] | None:
        if kwargs is not None and len(size := encode(kwargs)) > MODEL_KWARGS_MAX_BYTES:
            raise ValueError(
                f"model_kwargs is {len(size) / 2**20:.0f} MiB as JSON, over {MODEL_KWARGS_MAX_BYTES >> 20} MiB: "
                "put large data in a file of the project and pass its path"
            )
        return kwargs

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
    executor: Any = None  # runs the work that fans out (training seeds, grid chunks, ablations): the pool, or Ray

    def __post_init__(self) -> None:
        self.executor = self.executor or self.pool

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
    name: str,
    check: str,
    args: type[HarnessArgs],
    result: type[ToolResult],
    description: str,
    plot: PlotFn | None = None,
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
        is_file = harness.is_file()
    except PathOutsideRoot as exc:
        return finding("harness_error", ERROR, f"refused: {exc}", where=path)
    except (OSError, ValueError) as exc:  # a name too long, a loop of symlinks, ...
        return finding("harness_error", ERROR, f"cannot use the harness path {path[:300]!r}: {exc}", where=path[:300])
    if not is_file:
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
    if outcome.worker_lost and not outcome.timed_out:
        return finding(
            "internal_error",
            ERROR,
            f"{outcome.worker_lost}. This is not a fault of your code: the call's processes were killed, "
            "and the next call starts a fresh worker",
            evidence={"worker": outcome.worker_lost},
            suggestion="Call the tool again. If it keeps happening, look for what kills the server's worker "
            "processes (the kernel's OOM killer: dmesg; a process manager) and at the server's stderr log.",
        )
    if outcome.problems and outcome.returncode == 0:
        return _unreadable(outcome.problems)
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
    if outcome.node_lost is not None:
        return finding("crashed", ERROR, outcome.node_lost, suggestion="Run it again; if it repeats, check that node's Ray logs.")
    code = outcome.returncode
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        message = f"the worker died from signal {name} (the user's code crashed the interpreter, e.g. a segfault or abort)"
    elif code is None:
        message = "the worker ended without an exit status or an answer"
    else:
        message = (
            f"the worker exited with code {code} before answering: the code called os._exit(), or closed "
            "the worker's result pipe (os.closerange over every fd)"
        )
    return finding("crashed", ERROR, message, evidence={"returncode": code}, suggestion="See stderr_tail for the last words.")


def _unreadable(problems: list[str], what: str = "the worker's answer could not be read") -> dict[str, Any]:
    return finding(
        "internal_error",
        ERROR,
        f"{what}: {problems[0][:500]}",
        evidence={"problems": [p[:500] for p in problems[:5]]},
        suggestion="If the harness writes to file descriptors it did not open (a raw os.write to a high fd), "
        "stop that; otherwise this is a bug in implement-paper-mcp: report it with the harness.",
    )


def _save_report(runtime: Runtime, tool: str, full: dict[str, Any]) -> Artifact:
    folder = runtime.output_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{tool}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}.json"
    path.write_text(json.dumps(full, indent=1))
    return Artifact(kind="report", path=str(path.relative_to(runtime.root)), description="full detail of this call")


def _run_info(outcome: Outcome, payload: dict[str, Any], seed: int) -> RunInfo:
    reported = payload.get("run") if isinstance(payload.get("run"), dict) else {}
    known = {key: reported.get(key) for key in ("device", "python", "torch_version") if isinstance(reported.get(key), str)}
    return RunInfo(
        duration_s=round(outcome.duration_s, 3),
        **known,
        seed=seed,
        stdout_tail=outcome.stdout.text(TAIL_CHARS),
        stderr_tail=outcome.stderr.text(TAIL_CHARS),
        peak_rss_mb=outcome.peak_rss_mb,
        threads=outcome.threads,
    )


def build_result(
    name: str, result_type: type[ToolResult], outcome: Outcome, runtime: Runtime, args: HarnessArgs, timeout_s: float
) -> ToolResult:
    payload = clip_strings(outcome.payload or {})
    run = _run_info(outcome, payload, args.seed)
    if outcome.payload is None:
        found = Finding.model_validate(_failure_finding(outcome, timeout_s, runtime.memory_limit_mb))
        return result_type(status=status_of([found]), summary=found.message, findings=[found], run=run)
    try:
        findings = sort_findings([Finding.model_validate(f) for f in payload["findings"]])
        result = result_type(
            status=status_of(findings), summary=payload["summary"], findings=findings, details=payload.get("details"), run=run
        )
    except (KeyError, TypeError, ValidationError) as exc:
        found = Finding.model_validate(_unreadable([_why_invalid(exc)], "the worker's answer does not fit the result"))
        return result_type(status=status_of([found]), summary=found.message, findings=[found], run=run)
    if outcome.payload.get("full_report"):  # a file, not the agent's context: kept whole
        result.artifacts.append(_save_report(runtime, name, outcome.payload["full_report"]))
    return result


def _why_invalid(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"the answer has no {exc.args[0]!r}"
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{exc.error_count()} field(s) rejected, first {'.'.join(map(str, first['loc']))}: {first['msg']}"
    return f"{type(exc).__name__}: {exc}"


async def execute(
    check: str,
    name: str,
    result_type: type[ToolResult],
    args: HarnessArgs,
    runtime: Runtime,
    progress: ProgressCallback | None,
    on_data: Callable[[dict[str, Any]], None] | None = None,
    *,
    fan_out: bool = False,
) -> ToolResult:
    """Run worker check `check` on the harness `args` names; always returns an envelope.

    `fan_out`: one of many independent jobs (a seed, a grid chunk, an ablation's variant x seed), run by the
    server's executor (`--executor ray`: a Ray task) rather than its local pool."""
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
        outcome = await (runtime.executor if fan_out else runtime.pool).run(
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
