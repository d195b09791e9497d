"""Running a check on a worker, and turning whatever happened into the result envelope.

`execute()` resolves the harness path inside the project root, sends the job (a
`JobRequest`, tools/wire/messages.py) to the worker pool or the executor, and maps how it
ended (an answer, a timeout, a crash, memory) onto findings. What the worker answered is
checked like any outside input: strings are cut to a readable length, and an answer that
does not fit its message or the result model becomes an `internal_error` finding saying why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
from pydantic import ValidationError

from ..wire.findings import ERROR, finding, sort_findings
from ..wire.messages import Answer, JobRequest, MessageError
from ..wire.protocol import clip_strings
from .artifacts import save_report
from .envelope import Finding, RunInfo, ToolResult, status_of
from .harness_args import HarnessArgs
from .runner import Outcome, ProgressCallback, WorkerStartError
from .signals import signal_name
from .tool import Runtime

R = TypeVar("R", bound=ToolResult)  # the envelope type a call asked for is the one it gets

TAIL_CHARS = 2000  # of stdout/stderr in the envelope: enough for a traceback, small for a context window


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


def error_result(result_type: type[R], item: dict[str, Any], started: float) -> R:
    """The envelope of a call that ends in one finding (`item`, a finding dict) before any answer."""
    found = Finding.model_validate(item)
    return result_type(
        status=status_of([found]),
        summary=found.message,
        findings=[found],
        run=RunInfo(duration_s=round(time.perf_counter() - started, 3)),
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
    return _remote_failure(outcome) or _crash_finding(outcome.returncode)


def _remote_failure(outcome: Outcome) -> dict[str, Any] | None:
    """Why a Ray task gave no answer (`--executor ray`), or None for a local job."""
    if outcome.cluster_lost is not None:
        return finding(
            "cluster_lost",
            ERROR,
            outcome.cluster_lost,
            suggestion="Not your code: check the cluster (`ray status`), then restart the server "
            "(your MCP client's reconnect) to join it again; until then every Ray task fails this way.",
        )
    if outcome.task_error is not None:
        return finding(
            "internal_error",
            ERROR,
            f"{outcome.task_error}. Its node is still there: the server's task code raised before your code answered",
            evidence={"task_error": outcome.task_error},
            suggestion="Not your code: see the server's stderr log and that node's Ray logs; "
            "--executor local runs the same job on this machine.",
        )
    if outcome.node_lost is not None:
        return finding(
            "crashed", ERROR, outcome.node_lost, suggestion="Run it again; if it repeats, check that node's Ray logs."
        )
    return None


def _crash_finding(code: int | None) -> dict[str, Any]:
    """A worker that ended without answering, by its exit status."""
    if code is not None and code < 0:
        name = signal_name(-code)
        message = (
            f"the worker died from signal {name} (the user's code crashed the interpreter, e.g. a segfault or abort)"
        )
    elif code is None:
        message = "the worker ended without an exit status or an answer"
    else:
        message = (
            f"the worker exited with code {code} before answering: the code called os._exit(), or closed "
            "the worker's result pipe (os.closerange over every fd)"
        )
    return finding(
        "crashed", ERROR, message, evidence={"returncode": code}, suggestion="See stderr_tail for the last words."
    )


def _unreadable(problems: list[str], what: str = "the worker's answer could not be read") -> dict[str, Any]:
    return finding(
        "internal_error",
        ERROR,
        f"{what}: {problems[0][:500]}",
        evidence={"problems": [p[:500] for p in problems[:5]]},
        suggestion="If the harness writes to file descriptors it did not open (a raw os.write to a high fd), "
        "stop that; otherwise this is a bug in implement-paper-mcp: report it with the harness.",
    )


def _run_info(outcome: Outcome, answer: Answer | None, seed: int) -> RunInfo:
    reported = (answer.run if answer is not None else None) or {}
    known = {
        key: reported.get(key) for key in ("device", "python", "torch_version") if isinstance(reported.get(key), str)
    }
    return RunInfo(
        duration_s=round(outcome.duration_s, 3),
        **known,
        seed=seed,
        stdout_tail=outcome.stdout.text(TAIL_CHARS),
        stderr_tail=outcome.stderr.text(TAIL_CHARS),
        peak_rss_mb=outcome.peak_rss_mb,
        threads=reported["threads"] if isinstance(reported.get("threads"), int) else outcome.threads,
        queued_s=round(outcome.queued_s, 3),
    )


def _why_invalid(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        # A renamed key shows as two errors, the new name unexpected and the old one missing: name both.
        named = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
        return f"{exc.error_count()} field(s) rejected: {named}"
    return str(exc)


def build_result(name: str, result_type: type[R], outcome: Outcome, runtime: Runtime, seed: int, timeout_s: float) -> R:
    """The envelope of a job that ended: its answer, checked, or the finding that says why there is none."""
    if outcome.payload is None:
        found = Finding.model_validate(_failure_finding(outcome, timeout_s, runtime.memory_limit_mb))
        return result_type(
            status=status_of([found]), summary=found.message, findings=[found], run=_run_info(outcome, None, seed)
        )
    try:
        answer = Answer.from_fields(clip_strings(outcome.payload))
        run = _run_info(outcome, answer, seed)
        findings = sort_findings([Finding.model_validate(f) for f in answer.findings])
        result = result_type(
            status=status_of(findings), summary=answer.summary, findings=findings, details=answer.details, run=run
        )
    except (MessageError, ValidationError) as exc:
        found = Finding.model_validate(_unreadable([_why_invalid(exc)], "the worker's answer does not fit the result"))
        return result_type(
            status=status_of([found]), summary=found.message, findings=[found], run=_run_info(outcome, None, seed)
        )
    if answer.full_report:  # a file, not the agent's context: kept whole
        result.artifacts.append(save_report(runtime.root, name, outcome.payload["full_report"]))
    return result


def job_request(check: str, args: HarnessArgs, harness: Path, runtime: Runtime) -> JobRequest:
    """The job that runs worker check `check` with `args` on the located harness."""
    return JobRequest(
        check=check,
        harness=str(harness),
        root=str(runtime.root.resolve()),
        names=args.names,
        model_kwargs=args.model_kwargs,
        seed=args.seed,
        device=args.device,
        args=args.check_args(),
    )


async def execute(
    check: str,
    name: str,
    result_type: type[R],
    args: HarnessArgs,
    runtime: Runtime,
    progress: ProgressCallback | None,
    on_data: Callable[[dict[str, Any]], None] | None = None,
    *,
    fan_out: bool = False,
) -> R:
    """Run worker check `check` on the harness `args` names; always returns an envelope.

    `fan_out`: one of many independent jobs (a seed, a grid chunk, an ablation's variant x seed), run by the
    server's executor (`--executor ray`: a Ray task) rather than its local pool."""
    started = time.perf_counter()
    harness = locate_harness(runtime, args.harness)
    if isinstance(harness, dict):
        return error_result(result_type, harness, started)
    timeout_s = args.timeout_s or runtime.timeout_s
    try:
        outcome = await (runtime.executor if fan_out else runtime.pool).run(
            job_request(check, args, harness, runtime),
            timeout_s=timeout_s,
            memory_limit_mb=runtime.memory_limit_mb,
            on_progress=progress,
            on_data=on_data,
        )
    except WorkerStartError as exc:
        suggestion = "Start the server with --python pointing at an interpreter that has torch installed."
        return error_result(
            result_type, finding("worker_start_failed", ERROR, str(exc), suggestion=suggestion), started
        )
    # Off the event loop: validating a large answer and writing its full report block other calls' progress.
    return await anyio.to_thread.run_sync(build_result, name, result_type, outcome, runtime, args.seed, timeout_s)
