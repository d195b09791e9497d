"""Training runs as jobs: start one, poll it, cancel it, list them.

A run can last far longer than an MCP client keeps a request open (about 60 s), so
`start_training` returns at once with a run id and the run goes on in the server's own
task group. Each seed is one worker job, so seeds run in parallel up to --max-workers.
Every run is a JSON record under <root>/.implement-paper/runs/, rewritten atomically as
it progresses: results survive a server restart, and a run that was in flight when the
server stopped is marked `interrupted` the next time the server starts.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import anyio
from pydantic import BaseModel, Field, model_validator

from .envelope import Artifact, Curve, Finding, ToolResult, sort_findings, status_of
from .harness_tool import HarnessArgs, ProgressCallback, Runtime, Tool, error_result, execute, locate_harness
from .plots import loss_curves_plot
from .worker.findings import ERROR, finding

RunStatus = Literal["queued", "running", "completed", "failed", "cancelled", "interrupted"]
FINISHED = {"completed", "failed", "cancelled", "interrupted"}
SAVE_INTERVAL_S = 1.0  # a running record is rewritten at most this often
MAX_WAIT_S = 50.0
MAX_PARTIAL_POINTS = 120  # training_status may wait, but must answer before clients give up (~60 s)


class StartTrainingArgs(HarnessArgs):
    steps: int = Field(1000, ge=1, le=10_000_000, description="Optimisation steps per seed.")
    lr: float = Field(1e-3, gt=0, le=10, description="Learning rate for make_optimizer.")
    batch_size: int = Field(32, ge=1, le=1_000_000, description="Examples per step (get_train_batch, else get_batch).")
    seeds: list[int] | None = Field(
        None, min_length=1, max_length=16, description="One run per seed, in parallel workers; default [seed]."
    )
    eval_every: int | None = Field(None, ge=1, description="Also call evaluate(model) every this many steps.")
    label: str | None = Field(None, max_length=80, description="A name for the run, e.g. 'cnn-baseline'.")
    timeout_s: float | None = Field(
        None, gt=0, le=7 * 24 * 3600, description="Wall-clock limit per seed; default 24 hours."
    )

    @model_validator(mode="after")
    def _distinct_seeds(self) -> StartTrainingArgs:
        if self.seeds is not None:
            if len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
                raise ValueError("seeds must be distinct non-negative integers")
        return self


class RunIdArgs(BaseModel):
    run_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The id start_training returned.")


class StatusArgs(RunIdArgs):
    wait_s: float = Field(
        0, ge=0, le=MAX_WAIT_S, description="Wait up to this long for the run to finish before answering."
    )


class ListRunsArgs(BaseModel):
    limit: int = Field(20, ge=1, le=200, description="Newest runs first, at most this many.")


class MetricSummary(BaseModel):
    mean: float
    std: float = Field(description="Sample standard deviation over seeds (0 for one seed).")
    n: int
    values: list[float]


class SeedRun(BaseModel):
    seed: int
    status: RunStatus = "queued"
    steps_done: int = 0
    final_loss: float | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    curve: Curve = Field(default_factory=Curve, description="Training loss; partial while running.")
    duration_s: float | None = None
    findings: list[Finding] = Field(default_factory=list)


class RunRecord(BaseModel):
    run_id: str
    label: str | None = None
    harness: str
    status: RunStatus = "queued"
    created_at: str
    finished_at: str | None = None
    steps: int
    lr: float
    batch_size: int
    model_kwargs: dict[str, Any] | None = None
    seeds: list[SeedRun]
    metrics: dict[str, MetricSummary] = Field(default_factory=dict, description="Final metrics over seeds.")
    plot: str | None = Field(None, description="Training curves PNG, relative to the project root.")

    def summary(self) -> str:
        done = sum(s.steps_done for s in self.seeds)
        total = self.steps * len(self.seeds)
        text = f"run {self.run_id}{f' ({self.label})' if self.label else ''}: {self.status}, {done}/{total} steps"
        if self.metrics:
            text += "; " + ", ".join(f"{k} {m.mean:.4g} ± {m.std:.2g} (n={m.n})" for k, m in self.metrics.items())
        if self.status in ("queued", "running"):
            text += f". Poll training_status(run_id={self.run_id!r}, wait_s=30)."
        elif self.status == "completed" and self.metrics:
            text += f". Compare with the paper: compare_metrics(run_id={self.run_id!r}, reported={{...}})."
        return text


class RunResult(ToolResult[RunRecord]):
    pass


class RunListing(BaseModel):
    run_id: str
    label: str | None
    status: RunStatus
    created_at: str
    harness: str
    metrics: dict[str, float] = Field(description="Mean over seeds of each final metric.")


class RunList(BaseModel):
    runs: list[RunListing]


class RunListResult(ToolResult[RunList]):
    pass


class SeedDetails(BaseModel):
    """What tools/worker/train_run.py answers for one seed."""

    seed: int
    steps_run: int
    final_loss: float | None
    best_loss: float | None
    metrics: dict[str, float]
    eval_history: list[dict[str, Any]]
    curve: Curve


class SeedResult(ToolResult[SeedDetails]):
    pass


RUNS_DIR = Path(".implement-paper") / "runs"  # relative to the project root


def record_path(run_id: str) -> str:
    """Where a run's record lives, relative to the project root."""
    return str(RUNS_DIR / f"{run_id}.json")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def summarise_metrics(seeds: list[SeedRun]) -> dict[str, MetricSummary]:
    names = sorted({name for s in seeds for name in s.metrics})
    summary = {}
    for name in names:
        values = [s.metrics[name] for s in seeds if name in s.metrics]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
        summary[name] = MetricSummary(mean=mean, std=var**0.5, n=len(values), values=values)
    return summary


class RunStore:
    """Run records, one JSON file each, written atomically (temp file, then rename)."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / RUNS_DIR

    def path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json"

    def save(self, record: RunRecord) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{record.run_id}.{os.getpid()}.tmp"
        tmp.write_text(record.model_dump_json(indent=1))
        os.replace(tmp, self.path(record.run_id))

    def load(self, run_id: str) -> RunRecord | None:
        try:
            return RunRecord.model_validate_json(self.path(run_id).read_text())
        except FileNotFoundError:
            return None

    def all(self) -> list[RunRecord]:
        if not self.folder.is_dir():
            return []
        records = []
        for path in self.folder.glob("*.json"):
            try:
                records.append(RunRecord.model_validate_json(path.read_text()))
            except ValueError:
                continue  # a file that is not one of our records
        return sorted(records, key=lambda r: r.created_at, reverse=True)


class TrainingJobs:
    """The runs in flight. Owned by the server's lifespan: closing it cancels them all."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.store = RunStore(runtime.root)
        self._scopes: dict[str, anyio.CancelScope] = {}
        self._finished: dict[str, anyio.Event] = {}
        self._tg: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> TrainingJobs:
        for record in self.store.all():
            if record.status not in FINISHED:  # the server that ran it is gone
                record.status = "interrupted"
                for seed in record.seeds:
                    if seed.status not in FINISHED:
                        seed.status = "interrupted"
                self.store.save(record)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._tg.cancel_scope.cancel()
        await self._tg.__aexit__(*exc_info)

    def start(self, args: StartTrainingArgs, harness: str) -> RunRecord:
        seeds = args.seeds or [args.seed]
        record = RunRecord(
            run_id=f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}",
            label=args.label,
            harness=harness,
            created_at=_now(),
            steps=args.steps,
            lr=args.lr,
            batch_size=args.batch_size,
            model_kwargs=args.model_kwargs,
            seeds=[SeedRun(seed=s) for s in seeds],
        )
        self.store.save(record)
        self._finished[record.run_id] = anyio.Event()
        self._tg.start_soon(self._run, record, args)
        return record

    def cancel(self, run_id: str) -> bool:
        scope = self._scopes.get(run_id)
        if scope is None:
            return False
        scope.cancel()
        return True

    async def wait(self, run_id: str, timeout_s: float, progress: ProgressCallback | None) -> None:
        """Wait until the run finishes or `timeout_s` passes, reporting progress meanwhile."""
        finished = self._finished.get(run_id)
        if finished is None:
            return
        with anyio.move_on_after(timeout_s):
            while not finished.is_set():
                with anyio.move_on_after(2):
                    await finished.wait()
                if progress is not None and (record := self.store.load(run_id)):
                    await progress(sum(s.steps_done for s in record.seeds), record.steps * len(record.seeds), record.summary())

    async def _run(self, record: RunRecord, args: StartTrainingArgs) -> None:
        last_save = 0.0

        def save(force: bool = False) -> None:
            nonlocal last_save
            if force or time.monotonic() - last_save >= SAVE_INTERVAL_S:
                last_save = time.monotonic()
                self.store.save(record)

        async def one_seed(seed_run: SeedRun) -> None:
            def on_data(data: dict[str, Any]) -> None:
                seed_run.status = "running"
                seed_run.steps_done = data.get("step", seed_run.steps_done)
                if "loss" in data:
                    curve = seed_run.curve
                    curve.step.append(seed_run.steps_done)
                    curve.loss.append(data["loss"])
                    if len(curve.step) > MAX_PARTIAL_POINTS:  # thin out: the record stays small however long the run
                        curve.step, curve.loss = curve.step[::2], curve.loss[::2]
                save()

            seed_args = args.model_copy(update={"seed": seed_run.seed, "timeout_s": args.timeout_s or 24 * 3600.0})
            result = await execute("train_run", "start_training", SeedResult, seed_args, self.runtime, None, on_data)
            seed_run.findings = result.findings
            seed_run.duration_s = result.run.duration_s if result.run else None
            if result.details is not None:
                seed_run.steps_done = result.details.steps_run
                seed_run.final_loss = result.details.final_loss
                seed_run.metrics = result.details.metrics
                seed_run.curve = result.details.curve
            seed_run.status = "failed" if result.status in ("error", "fail") else "completed"
            save(force=True)

        record.status = "running"
        save(force=True)
        with anyio.CancelScope() as scope:
            self._scopes[record.run_id] = scope
            try:
                async with anyio.create_task_group() as tg:
                    for seed_run in record.seeds:
                        tg.start_soon(one_seed, seed_run)
            finally:
                with anyio.CancelScope(shield=True):
                    await self._finish(record, cancelled=scope.cancel_called)
                    del self._scopes[record.run_id]
                    self._finished[record.run_id].set()

    async def _finish(self, record: RunRecord, cancelled: bool) -> None:
        for seed_run in record.seeds:
            if seed_run.status not in FINISHED:
                seed_run.status = "cancelled" if cancelled else "interrupted"
        record.metrics = summarise_metrics([s for s in record.seeds if s.status == "completed"])
        if cancelled:
            record.status = "cancelled"
        elif all(s.status == "completed" for s in record.seeds):
            record.status = "completed"
        elif any(s.status == "interrupted" for s in record.seeds):
            record.status = "interrupted"  # the server is shutting down
        else:
            record.status = "failed"
        record.finished_at = _now()
        curves = {f"seed {s.seed}": s.curve for s in record.seeds if s.curve.step}
        if curves:
            png = await anyio.to_thread.run_sync(
                lambda: loss_curves_plot(curves, title=f"Training loss, run {record.run_id}", xlabel="step")
            )
            plot = self.store.folder / f"{record.run_id}.png"
            plot.write_bytes(png)
            record.plot = str(plot.relative_to(self.runtime.root))
        self.store.save(record)


def run_result(record: RunRecord) -> RunResult:
    findings = sort_findings([f for s in record.seeds for f in s.findings])
    if record.status == "interrupted":
        findings.insert(
            0,
            Finding.model_validate(
                finding("crashed", ERROR, f"run {record.run_id} was interrupted: the server stopped while it ran")
            ),
        )
    artifacts = [Artifact(kind="run", path=record_path(record.run_id))]
    if record.plot:
        artifacts.append(Artifact(kind="plot", path=record.plot, description="training loss per seed"))
    return RunResult(
        status="pass" if record.status == "cancelled" else status_of(findings),
        summary=record.summary(),
        findings=findings,
        details=record,
        artifacts=artifacts,
    )


def _unknown_run(run_id: str) -> RunResult:
    message = f"no run {run_id!r}; list_runs() shows the known runs"
    return error_result(RunResult, finding("harness_error", ERROR, message, where=run_id), time.perf_counter())


def _jobs(runtime: Runtime) -> TrainingJobs:
    assert runtime.jobs is not None, "the server's lifespan sets runtime.jobs"
    return runtime.jobs


async def _start(args: StartTrainingArgs, runtime: Runtime, progress: ProgressCallback | None) -> RunResult:
    harness = locate_harness(runtime, args.harness)
    if isinstance(harness, dict):
        return error_result(RunResult, harness, time.perf_counter())
    return run_result(_jobs(runtime).start(args, str(harness.relative_to(runtime.root.resolve()))))


async def _status(args: StatusArgs, runtime: Runtime, progress: ProgressCallback | None) -> RunResult:
    jobs = _jobs(runtime)
    if args.wait_s:
        await jobs.wait(args.run_id, args.wait_s, progress)
    record = jobs.store.load(args.run_id)
    return run_result(record) if record else _unknown_run(args.run_id)


async def _cancel(args: RunIdArgs, runtime: Runtime, progress: ProgressCallback | None) -> RunResult:
    jobs = _jobs(runtime)
    if jobs.cancel(args.run_id):
        await jobs.wait(args.run_id, 10, None)
    record = jobs.store.load(args.run_id)
    return run_result(record) if record else _unknown_run(args.run_id)


async def _list(args: ListRunsArgs, runtime: Runtime, progress: ProgressCallback | None) -> RunListResult:
    records = _jobs(runtime).store.all()[: args.limit]
    runs = [
        RunListing(
            run_id=r.run_id,
            label=r.label,
            status=r.status,
            created_at=r.created_at,
            harness=r.harness,
            metrics={k: m.mean for k, m in r.metrics.items()},
        )
        for r in records
    ]
    return RunListResult(status="pass", summary=f"{len(runs)} run(s), newest first.", details=RunList(runs=runs))


START_TRAINING = Tool(
    name="start_training",
    args=StartTrainingArgs,
    result=RunResult,
    description=(
        "Start a real training run in the background and return its run_id at once. One worker per seed (in "
        "parallel up to --max-workers); data from the harness's get_train_batch(batch_size, step) when defined; "
        "metrics from evaluate(model) at the end (and every eval_every steps). Records persist under "
        ".implement-paper/runs/. Then poll training_status(run_id, wait_s=30) and compare_metrics(run_id=...)."
    ),
    invoke=_start,
)

TRAINING_STATUS = Tool(
    name="training_status",
    args=StatusArgs,
    result=RunResult,
    description=(
        "Progress of a training run: status, steps done, partial loss curve per seed, final metrics (mean ± std "
        "over seeds) when done. wait_s (≤ 50) waits for completion, reporting progress, before answering."
    ),
    invoke=_status,
)

CANCEL_TRAINING = Tool(
    name="cancel_training",
    args=RunIdArgs,
    result=RunResult,
    description="Cancel a running training run: its workers are killed; the record stays, marked cancelled.",
    invoke=_cancel,
    destructive=True,
)

LIST_RUNS = Tool(
    name="list_runs",
    args=ListRunsArgs,
    result=RunListResult,
    description="The training runs recorded under this project (also those of earlier server sessions), newest first.",
    invoke=_list,
    read_only=True,
)
