"""Training runs as jobs: start one, poll it, cancel it, list them.

A run can last far longer than an MCP client keeps a request open (about 60 s), so
`start_training` returns at once with a run id and the run goes on in the server's own
task group. Each seed is one worker job, so seeds run in parallel up to --max-workers.
The worker streams every step's loss, each evaluation and findings as they are known; the
server keeps them in the run's record (tools/runtime/run_store.py), rewritten about once a second
off the event loop, and in TensorBoard event files (tools/training/events.py).

Every seed task is supervised: whatever goes wrong in one (a worker answer that does not
validate, a file that cannot be written) fails that seed with an `internal_error` finding
and never reaches the server's task group, so one bad run cannot stop the server.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, TypeAdapter, model_validator

from ..runtime.artifacts import save_run_plot
from ..runtime.bounds import MAX_METRICS, Finite, Name, Seed
from ..runtime.dispatch import error_result, execute, locate_harness
from ..runtime.envelope import Artifact, Finding, ToolResult, status_of
from ..runtime.harness_args import Device, HarnessArgs, HarnessPath, HarnessSeed, ModelKwargs, Names
from ..runtime.run_store import (
    FINISHED,
    RUN_ID_PATTERN,
    MetricSummary,
    OwnerLock,
    RunRecord,
    RunStore,
    SeedRun,
    Skipped,
    owner_pid,
    record_path,
    record_text,
    unknown_run_finding,
)
from ..runtime.runner import ProgressCallback
from ..runtime.tool import Runtime, Tool
from ..runtime.tool_call import call_tool
from ..shared.plots import Series, training_run_plot
from ..shared.reference_levels import BASELINE_DOC, CEILING_DOC, Level, levels_field, run_level_findings
from ..wire.details import Curve
from ..wire.findings import ERROR, INFO, WARNING, finding, sort_findings
from ..worker.shared_data import shared_data_finding
from .details import SeedDetails, SeedProgress, StreamedPoints
from .events import EventLog, tensorboard_available
from .objective import Reach, best_of, reach

log = logging.getLogger(__name__)

SAVE_INTERVAL_S = 1.0  # a running record (and its events) is written at most this often
MAX_WAIT_S = 50.0  # training_status may wait, but must answer before clients give up (~60 s)
MAX_PARTIAL_POINTS = 120  # of a running seed's loss curve: the record stays small however long the run
MAX_EVALUATIONS = 2000  # per seed: the history lives in the record
MAX_METRIC_PANELS = 3  # metrics drawn beside the loss when no objective says which one matters
MAX_TERM_PANELS = 3  # train_step's other values (epsilon, a KL weight) drawn after the metrics


Steps = Annotated[int, Field(ge=1, le=10_000_000, description="Optimisation steps per seed.")]
Lr = Annotated[float, Field(gt=0, le=10, description="Learning rate for make_optimizer.")]
BatchSize = Annotated[
    int,
    Field(ge=1, le=1_000_000, description="Examples per step (get_train_batch, else get_batch)."),
]
Seeds = Annotated[
    list[Seed] | None,
    Field(min_length=1, max_length=16, description="One run per seed, in parallel workers; default [seed]."),
]
EvalEvery = Annotated[
    int | None,
    Field(
        ge=1,
        description="Call evaluate(model) at step 0, every this many steps and at the end; each seed keeps the "
        "history (the objective's curve, steps to reach a value). Default: evaluate at the end only.",
    ),
]
Label = Annotated[str | None, Field(max_length=80, description="A name for the run, e.g. 'cnn-baseline'.")]
Baseline = Annotated[dict[str, Level] | None, levels_field(BASELINE_DOC + " Judged on the final metrics.")]
Ceiling = Annotated[dict[str, Level] | None, levels_field(CEILING_DOC)]
TimeoutS = Annotated[
    float | None,
    Field(gt=0, le=7 * 24 * 3600, description="Wall-clock limit per seed; default 24 hours."),
]


class StartTrainingArgs(HarnessArgs):
    steps: Steps = 1000
    lr: Lr = 1e-3
    batch_size: BatchSize = 32
    seeds: Seeds = None
    eval_every: EvalEvery = None
    label: Label = None
    baseline: Baseline = None
    ceiling: Ceiling = None
    timeout_s: TimeoutS = None

    @model_validator(mode="after")
    def _check(self) -> StartTrainingArgs:
        if self.seeds is not None and (len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0):
            raise ValueError("seeds must be distinct non-negative integers")
        if self.eval_every is not None and self.steps / self.eval_every > MAX_EVALUATIONS:
            raise ValueError(
                f"eval_every must be at least steps / {MAX_EVALUATIONS} = {math.ceil(self.steps / MAX_EVALUATIONS)}"
            )
        return self


RunId = Annotated[str, Field(pattern=RUN_ID_PATTERN, description="The id start_training returned.")]


class RunIdArgs(BaseModel):
    run_id: RunId


WaitS = Annotated[
    float,
    Field(ge=0, le=MAX_WAIT_S, description="Wait up to this long for the run to finish before answering."),
]
ReachArg = Annotated[
    dict[Name, Finite] | None,
    Field(
        max_length=MAX_METRICS,
        description='Steps to reach a value: {metric: value}, e.g. {"accuracy": 72}. For each seed, the first '
        "evaluation step at which the metric was at least that good (better = the objective's mode for its "
        "metric, else lower for loss/nll/error/perplexity/neg_elbo names, higher otherwise). Needs eval_every.",
    ),
]
BaselineArg = Annotated[
    dict[str, Level] | None,
    levels_field(BASELINE_DOC + " Overrides start_training's, metric by metric."),
]
CeilingArg = Annotated[dict[str, Level] | None, levels_field(CEILING_DOC)]


class StatusArgs(RunIdArgs):
    wait_s: WaitS = 0
    reach: ReachArg = None
    baseline: BaselineArg = None
    ceiling: CeilingArg = None


Limit = Annotated[int, Field(ge=1, le=200, description="Newest runs first, at most this many.")]


class ListRunsArgs(BaseModel):
    limit: Limit = 20


class RunView(RunRecord):
    """A run record as training_status shows it."""

    progress: str = Field("", description="Seeds x steps and how many are done, e.g. '3 seeds x 2,000 steps: ...'.")
    reach: list[Reach] = Field(default_factory=list, description="Answers to the reach argument, one per metric.")


class RunResult(ToolResult[RunView]):
    pass


class RunListing(BaseModel):
    run_id: str
    label: str | None
    status: str
    created_at: str
    harness: str
    progress: str
    metrics: dict[str, float] = Field(description="Mean over seeds of each final metric.")


class RunList(BaseModel):
    runs: list[RunListing]
    skipped: list[Skipped] = Field(default_factory=list, description="Files under runs/ that are not valid records.")


class RunListResult(ToolResult[RunList]):
    pass


class SeedResult(ToolResult[SeedDetails]):
    pass


SEED_PROGRESS = TypeAdapter(SeedProgress)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def summarise_metrics(seeds: list[SeedRun]) -> dict[str, MetricSummary]:
    names = sorted({name for s in seeds for name, v in s.metrics.items() if v is not None})
    summary = {}
    for name in names:
        values = [s.metrics[name] for s in seeds if s.metrics.get(name) is not None]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
        summary[name] = MetricSummary(mean=mean, std=var**0.5, n=len(values), values=values)
    return summary


def progress_text(record: RunRecord) -> str:
    """'3 seeds x 2,000 steps: 4,100 of 6,000 steps done (seed 0 2,000 evaluating, ...)'."""
    n, per = len(record.seeds), record.steps
    done = sum(min(s.steps_done, per) for s in record.seeds)
    text = f"{n} seed{'s' if n > 1 else ''} x {per:,} steps: {done:,} of {n * per:,} steps done"
    if record.status not in ("completed", "queued"):
        text += " (" + ", ".join(f"seed {s.seed} {s.steps_done:,} {s.status}" for s in record.seeds) + ")"
    return text


def run_summary(record: RunRecord) -> str:
    text = (
        f"run {record.run_id}{f' ({record.label})' if record.label else ''}: {record.status}, {progress_text(record)}"
    )
    best = [(s.seed, s.best) for s in record.seeds if s.best]
    if best:
        text += f"; best {best[0][1].metric} " + ", ".join(
            f"{b.value:.4g} (seed {seed}, step {b.step:,})" for seed, b in best
        )
    if record.metrics:
        text += "; final " + ", ".join(f"{k} {m.mean:.4g} ± {m.std:.2g} (n={m.n})" for k, m in record.metrics.items())
    if record.status in ("queued", "running"):
        text += f". Poll training_status(run_id={record.run_id!r}, wait_s=30)."
    elif record.status == "completed" and record.metrics:
        text += f". Compare with the paper: compare_metrics(run_id={record.run_id!r}, reported={{...}})."
    return text


def _kept(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def add_points(curve: Curve, points: StreamedPoints, stride: int) -> None:
    """Append streamed losses, and train_step's other values, to a running curve, keeping only steps
    on a `stride` grid plus the latest."""
    terms = curve.terms if curve.terms is not None else {}
    for index, (step, loss) in enumerate(zip(points.step, points.loss)):
        if curve.step and step <= curve.step[-1]:
            continue
        if curve.step and curve.step[-1] % stride:  # the previous latest point, off the grid
            curve.step.pop()
            curve.loss.pop()
            for column in terms.values():
                column.pop()
        for name in points.terms.keys() - terms.keys():  # a term first logged now: absent before
            terms[name] = [None] * len(curve.step)
        curve.step.append(step)
        curve.loss.append(_kept(loss))
        for name, column in terms.items():
            values = points.terms.get(name)
            column.append(_kept(values[index]) if values is not None and index < len(values) else None)
    curve.terms = terms or None


def internal_error(what: str, exc: BaseException, where: str | None = None) -> Finding:
    return Finding.model_validate(
        finding(
            "internal_error",
            ERROR,
            f"{what}: {type(exc).__name__}: {exc}"[:600],
            where=where,
            suggestion="The server logged the traceback; the rest of the run and the server carry on. If it is a "
            "worker answer that did not validate, report it with the harness.",
        )
    )


class LiveRun:
    """A run in flight in this server: its record in memory, written out at most every SAVE_INTERVAL_S."""

    def __init__(self, record: RunRecord, store: RunStore):
        self.record, self.store = record, store
        self.dirty = False
        self.scope: anyio.CancelScope | None = None
        self.finished = anyio.Event()
        self.started = anyio.Event()  # a seed's job began on a worker: the run is no longer queued
        self.events: dict[int, EventLog] = {}
        self.pending: dict[int, list[dict[str, Any]]] = {s.seed: [] for s in record.seeds}
        self._lock = anyio.Lock()

    async def flush(self) -> None:
        """Write the record and pending TensorBoard events, off the event loop. Never raises: a full disk
        costs the file, not the run."""
        async with self._lock:
            self.dirty = False
            text = record_text(self.record)
            batches = {seed: items for seed, items in self.pending.items() if items}
            self.pending = {seed: [] for seed in self.pending}
            try:
                await anyio.to_thread.run_sync(self._write, text, batches)
            except Exception:  # logged; the next flush tries again
                log.exception("could not save run %s", self.record.run_id)

    def _write(self, text: str, batches: dict[int, list[dict[str, Any]]]) -> None:
        for seed, items in batches.items():
            for data in items:
                if seed in self.events:
                    self.events[seed].write(data)
        self.store.write(self.record.run_id, text)

    async def save_start(self) -> None:
        """Write the record as soon as it runs: another server on this root reads the disk, not our memory."""
        await self.started.wait()
        await self.flush()

    async def autosave(self) -> None:
        while True:
            await anyio.sleep(SAVE_INTERVAL_S)
            if self.dirty:
                await self.flush()


class TrainingJobs:
    """The runs in flight, kept in `store`. The server's lifespan opens it (`async with`); closing it
    cancels them all. Each run's seeds run on the runtime of the call that started it."""

    def __init__(self, store: RunStore):
        self.store = store
        self.owner = OwnerLock(self.store)
        self.live: dict[str, LiveRun] = {}
        # Whether the tensorboard extra is installed (runs then write events): learnt at the first run, since
        # importing it takes 0.15 s that the server's start should not wait for.
        self.tensorboard: bool | None = None
        self._tg: anyio.abc.TaskGroup | None = None

    async def __aenter__(self) -> TrainingJobs:
        try:
            await anyio.to_thread.run_sync(self._adopt_orphans)
        except Exception:  # whatever lies under runs/, the server starts
            log.exception("could not look through the runs of %s", self.store.folder)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._tg.cancel_scope.cancel()
        try:
            await self._tg.__aexit__(*exc_info)
        finally:
            self.owner.release()

    def _adopt_orphans(self) -> None:
        """Take this server's lock, then mark interrupted the unfinished runs whose server is gone.
        Runs of another live server on this root are left alone (and logged)."""
        try:
            self.owner.acquire()
        except OSError as exc:
            log.warning(
                "cannot lock %s (%s): runs of other servers on this root may be marked interrupted",
                self.owner.folder,
                exc,
            )
        records, _ = self.store.newest()
        for record in records:
            self.orphaned(record)

    def orphaned(self, record: RunRecord) -> RunRecord:
        """`record`, marked interrupted (and saved) when it is unfinished and its server is gone: not
        this one, and no live server holds its owner's lock (one killed by SIGKILL holds none)."""
        if record.status in FINISHED or record.run_id in self.live:
            return record
        if self.owner.alive(record.owner):
            log.info(
                "run %s is running in another server (pid %s) on this root: left alone",
                record.run_id,
                owner_pid(record.owner),
            )
            return record
        record.status = "interrupted"
        for seed in record.seeds:
            if seed.status not in FINISHED:
                seed.status = "interrupted"
        try:
            self.store.save(record)
        except OSError as exc:
            log.warning("could not mark run %s interrupted: %s", record.run_id, exc)
        return record

    async def start(self, args: StartTrainingArgs, harness: str, runtime: Runtime) -> RunRecord:
        await anyio.to_thread.run_sync(self.store.writable)  # a symlinked runs/ refuses the run before it starts
        if self.tensorboard is None:
            self.tensorboard = await anyio.to_thread.run_sync(tensorboard_available)
        record = RunRecord(
            run_id=f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}",
            label=args.label,
            harness=harness,
            created_at=_now(),
            steps=args.steps,
            lr=args.lr,
            batch_size=args.batch_size,
            eval_every=args.eval_every,
            model_kwargs=args.model_kwargs,
            baseline=args.baseline,
            ceiling=args.ceiling,
            seeds=[SeedRun(seed=s) for s in args.seeds or [args.seed]],
            owner=self.owner.name,
        )
        if self.tensorboard:
            record.events = self.store.relative(self.store.folder / record.run_id)
        run = LiveRun(record, self.store)
        self.live[record.run_id] = run
        await run.flush()
        self._tg.start_soon(self._supervise, run, args, runtime)
        return record

    def cancel(self, run_id: str) -> bool:
        run = self.live.get(run_id)
        if run is None or run.scope is None or run.finished.is_set():
            return False
        run.scope.cancel()
        return True

    async def record(self, run_id: str) -> RunRecord | None:
        """The live record when this server runs it, else the one on disk."""
        if run_id in self.live:
            run = self.live[run_id]
            if run.record.status in FINISHED:  # its last save is under way: answer once the disk agrees
                await run.finished.wait()
            return run.record
        record = await anyio.to_thread.run_sync(self.store.load, run_id)
        return await anyio.to_thread.run_sync(self.orphaned, record) if record else None

    async def wait(self, run_id: str, timeout_s: float, progress: ProgressCallback | None) -> None:
        """Wait until the run finishes or `timeout_s` passes, reporting progress meanwhile."""
        run = self.live.get(run_id)
        if run is None:
            return
        with anyio.move_on_after(timeout_s):
            while not run.finished.is_set():
                with anyio.move_on_after(2):
                    await run.finished.wait()
                if progress is not None:
                    record = run.record
                    done = sum(s.steps_done for s in record.seeds)
                    await progress(done, record.steps * len(record.seeds), run_summary(record))

    async def _supervise(self, run: LiveRun, args: StartTrainingArgs, runtime: Runtime) -> None:
        """The whole run; nothing raised in it may reach the server's task group."""
        try:
            await self._run(run, args, runtime)
        except Exception as exc:  # a bug of ours must cost this run only
            log.exception("run %s failed inside the server", run.record.run_id)
            run.record.findings.append(internal_error("the run failed inside the server", exc))
            run.record.status = "failed"
            await run.flush()
        finally:
            run.finished.set()

    async def _run(self, run: LiveRun, args: StartTrainingArgs, runtime: Runtime) -> None:
        await run.flush()  # at once: another server on this root reads the record, not our memory
        with anyio.CancelScope() as scope:
            run.scope = scope
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(run.autosave)
                    tg.start_soon(run.save_start)
                    async with anyio.create_task_group() as seeds:
                        for seed_run in run.record.seeds:
                            seeds.start_soon(self._seed, run, seed_run, args, runtime)
                    tg.cancel_scope.cancel()  # every seed is done: stop autosaving
            finally:
                with anyio.CancelScope(shield=True):
                    await self._finish(run, cancelled=scope.cancel_called)

    async def _seed(self, run: LiveRun, seed_run: SeedRun, args: StartTrainingArgs, runtime: Runtime) -> None:
        """One seed's worker job. Anything but cancellation fails this seed alone, with internal_error."""
        events = EventLog(partial(self.store.events_folder, run.record.run_id, seed_run.seed))
        try:
            if self.tensorboard and await anyio.to_thread.run_sync(events.open):
                run.events[seed_run.seed] = events
            seed_args = args.model_copy(update={"seed": seed_run.seed, "timeout_s": args.timeout_s or 24 * 3600.0})
            on_data = self._on_data(run, seed_run)
            result = await execute(
                "training", "start_training", SeedResult, seed_args, runtime, None, on_data, fan_out=True
            )
            self._seed_result(run.record, seed_run, result)
        except Exception as exc:  # supervised: the other seeds and the server carry on
            log.exception("seed %s of run %s failed inside the server", seed_run.seed, run.record.run_id)
            seed_run.findings.append(
                internal_error(f"seed {seed_run.seed} failed inside the server", exc, f"seed {seed_run.seed}")
            )
            seed_run.status = "failed"
        finally:
            with anyio.CancelScope(shield=True):
                await run.flush()
                run.events.pop(seed_run.seed, None)
                await anyio.to_thread.run_sync(events.close)

    def _on_data(self, run: LiveRun, seed_run: SeedRun) -> Callable[[dict[str, Any]], None]:
        record = run.record
        stride = max(1, math.ceil(record.steps / MAX_PARTIAL_POINTS))

        def on_data(data: dict[str, Any]) -> None:
            update = SEED_PROGRESS.validate_python(data)  # a bad message fails the seed (supervised)
            findings = [Finding.model_validate(f) for f in update.findings]
            seed_run.status = "evaluating" if update.phase == "evaluating" else "running"
            if record.status == "queued":  # its first seed's job has started on a worker
                record.status = "running"
                run.started.set()
            seed_run.steps_done = update.steps_done
            if update.objective is not None:
                record.objective = update.objective
            add_points(seed_run.curve, update.points, stride)
            seed_run.history += update.history
            seed_run.best = best_of(seed_run.history, record.objective)
            seed_run.findings += findings
            run.pending[seed_run.seed].append(data)
            run.dirty = True

        return on_data

    def _seed_result(self, record: RunRecord, seed_run: SeedRun, result: SeedResult) -> None:
        seed_run.findings = result.findings
        seed_run.duration_s = result.run.duration_s if result.run else None
        details = result.details
        if details is not None:
            seed_run.steps_done = details.steps_run
            seed_run.final_loss = details.final_loss
            seed_run.metrics = details.metrics
            seed_run.curve = details.curve
            seed_run.history = details.history
            seed_run.data_digest = details.data_digest
            record.objective = details.objective or record.objective
            seed_run.best = best_of(seed_run.history, record.objective)
        stopped_early = details is None or details.steps_run < record.steps
        seed_run.status = "failed" if result.status == "error" or stopped_early else "completed"

    async def _finish(self, run: LiveRun, cancelled: bool) -> None:
        record = run.record
        for seed_run in record.seeds:
            if seed_run.status not in FINISHED:
                seed_run.status = "cancelled" if cancelled else "interrupted"
        record.metrics = summarise_metrics([s for s in record.seeds if s.status == "completed"])
        shared = shared_data_finding({s.seed: s.data_digest for s in record.seeds})
        if shared is not None:
            record.findings.append(Finding.model_validate(shared))
        if cancelled:
            record.status = "cancelled"
        elif all(s.status == "completed" for s in record.seeds):
            record.status = "completed"
        elif any(s.status == "interrupted" for s in record.seeds):
            record.status = "interrupted"  # the server is shutting down
        else:
            record.status = "failed"
        record.finished_at = _now()
        try:
            await self._plot(record)
        except Exception as exc:  # a plot is not worth a run
            log.exception("could not plot run %s", record.run_id)
            record.findings.append(internal_error("the run's plot could not be drawn", exc))
        await run.flush()

    async def _plot(self, record: RunRecord) -> None:
        loss, metrics, levels = plot_series(record)
        if not loss:
            return
        title = f"run {record.run_id}" + (f" ({record.label})" if record.label else "")
        png = await anyio.to_thread.run_sync(lambda: training_run_plot(loss, metrics, title=title, levels=levels))
        record.plot = await save_run_plot(self.store, record.run_id, png)


def plot_series(
    record: RunRecord,
) -> tuple[dict[str, Series], dict[str, dict[str, Series]], dict[str, dict[str, float]]]:
    """Each seed's loss curve, the monitored metric over evaluation steps per seed (the objective when
    the harness declares one, else every metric, at most MAX_METRIC_PANELS) and each panel's
    baseline and ceiling, drawn as lines; then train_step's other values per step."""
    loss = {f"seed {s.seed}": (s.curve.step, s.curve.loss) for s in record.seeds if s.curve.step}
    measured = sorted({m for s in record.seeds for p in s.history for m in p.metrics})
    objective = record.objective or {}
    names = [objective["monitor"]] if objective.get("monitor") in measured else measured[:MAX_METRIC_PANELS]
    metrics, levels = {}, {}
    for name in names:
        panel = name + (f" (objective, {objective['mode']})" if name == objective.get("monitor") else "")
        metrics[panel] = {
            f"seed {s.seed}": ([p.step for p in s.history], [p.metrics.get(name) for p in s.history])
            for s in record.seeds
        }
        given = {"baseline": (record.baseline or {}).get(name), "ceiling": (record.ceiling or {}).get(name)}
        levels[panel] = {label: value for label, value in given.items() if value is not None}
    return loss, {**metrics, **term_series(record)}, levels


def term_series(record: RunRecord) -> dict[str, dict[str, Series]]:
    """A panel per value train_step returns beside the loss (epsilon, a KL weight; at most MAX_TERM_PANELS),
    each seed's over the steps of its loss curve."""
    names = sorted({name for s in record.seeds for name in (s.curve.terms or {})})[:MAX_TERM_PANELS]
    seeds = [s for s in record.seeds if s.curve.step]

    def series(s: SeedRun, name: str) -> Series:
        return s.curve.step, (s.curve.terms or {}).get(name, [None] * len(s.curve.step))

    return {f"{name} (train_step)": {f"seed {s.seed}": series(s, name) for s in seeds} for name in names}


def _unique(findings: list[Finding]) -> list[Finding]:
    """Findings of every seed, each message once (seeds of one harness share their contract notes)."""
    unique: dict[tuple[str, str], Finding] = {}
    for f in findings:
        unique.setdefault((f.code, f.message), f)
    return list(unique.values())


def run_result(record: RunRecord, jobs: TrainingJobs, asked: StatusArgs | None = None) -> RunResult:
    baseline = {**(record.baseline or {}), **(asked.baseline if asked and asked.baseline else {})}
    ceiling = {**(record.ceiling or {}), **(asked.ceiling if asked and asked.ceiling else {})}
    levels = run_level_findings(record.metrics, baseline, ceiling, record.objective)
    checked = [Finding.model_validate(f) for f in levels] if record.status == "completed" else []
    findings = sort_findings(_unique(record.findings + checked + [f for s in record.seeds for f in s.findings]))
    if record.status == "interrupted":
        findings.insert(
            0,
            Finding.model_validate(
                finding("crashed", ERROR, f"run {record.run_id} was interrupted: the server stopped while it ran")
            ),
        )
    summary = run_summary(record)
    if record.status not in FINISHED and record.run_id not in jobs.live and jobs.owner.alive(record.owner):
        pid = owner_pid(record.owner)
        findings.append(
            Finding.model_validate(
                finding(
                    "run_elsewhere",
                    INFO,
                    f"run {record.run_id} is running in another server (pid {pid}) on this root: this one shows its "
                    "record as last saved and cannot cancel it",
                    evidence={"pid": pid},
                )
            )
        )
        summary = f"(running in another server, pid {pid}) {summary}"
    artifacts = [Artifact(kind="run", path=record_path(record.run_id))]
    if record.plot:
        artifacts.append(
            Artifact(
                kind="plot", path=record.plot, description="training loss, objective and train_step's values per seed"
            )
        )
    view = RunView(
        **dict(record), progress=progress_text(record), reach=reach(record, (asked.reach if asked else None) or {})
    )
    return RunResult(
        status="pass" if record.status == "cancelled" else status_of(findings),
        summary=summary,
        findings=findings,
        details=view,
        artifacts=artifacts,
    )


def _unknown_run(run_id: str) -> RunResult:
    return error_result(RunResult, unknown_run_finding(run_id), time.perf_counter())


async def _start(
    args: StartTrainingArgs, runtime: Runtime[TrainingJobs], progress: ProgressCallback | None
) -> RunResult:
    harness = locate_harness(runtime, args.harness)
    if isinstance(harness, dict):
        return error_result(RunResult, harness, time.perf_counter())
    return run_result(
        await runtime.jobs.start(args, str(harness.relative_to(runtime.root.resolve())), runtime), runtime.jobs
    )


async def _status(args: StatusArgs, runtime: Runtime[TrainingJobs], progress: ProgressCallback | None) -> RunResult:
    if args.wait_s:
        await runtime.jobs.wait(args.run_id, args.wait_s, progress)
    record = await runtime.jobs.record(args.run_id)
    return run_result(record, runtime.jobs, args) if record else _unknown_run(args.run_id)


async def _cancel(args: RunIdArgs, runtime: Runtime[TrainingJobs], progress: ProgressCallback | None) -> RunResult:
    if runtime.jobs.cancel(args.run_id):
        await runtime.jobs.wait(args.run_id, 10, None)
    record = await runtime.jobs.record(args.run_id)
    return run_result(record, runtime.jobs) if record else _unknown_run(args.run_id)


async def _list_runs(
    args: ListRunsArgs, runtime: Runtime[TrainingJobs], progress: ProgressCallback | None
) -> RunListResult:
    return await _list(runtime.jobs, args.limit)


async def _list(jobs: TrainingJobs, limit: int) -> RunListResult:
    records, skipped = await anyio.to_thread.run_sync(jobs.store.newest, limit)
    records = [jobs.live[r.run_id].record if r.run_id in jobs.live else r for r in records]
    records = await anyio.to_thread.run_sync(lambda: [jobs.orphaned(r) for r in records])  # owners that died since
    runs = [
        RunListing(
            run_id=r.run_id,
            label=r.label,
            status=r.status,
            created_at=r.created_at,
            harness=r.harness,
            progress=progress_text(r),
            metrics={k: m.mean for k, m in r.metrics.items()},
        )
        for r in records
    ]
    findings = [
        Finding.model_validate(
            finding(
                "run_record_skipped",
                WARNING,
                f"{item.file} under .implement-paper/runs/ is not a valid run record ({item.reason}); skipped",
                where=item.file,
                suggestion="Move it out of .implement-paper/runs/ (only start_training writes there).",
            )
        )
        for item in skipped
    ]
    summary = (
        f"{len(runs)} run(s), newest first" + (f"; {len(skipped)} unreadable file(s) skipped" if skipped else "") + "."
    )
    return RunListResult(
        status=status_of(findings), summary=summary, findings=findings, details=RunList(runs=runs, skipped=skipped)
    )


async def start_training(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: TimeoutS = None,
    steps: Steps = 1000,
    lr: Lr = 1e-3,
    batch_size: BatchSize = 32,
    seeds: Seeds = None,
    eval_every: EvalEvery = None,
    label: Label = None,
    baseline: Baseline = None,
    ceiling: Ceiling = None,
) -> Annotated[CallToolResult, RunResult]:
    return await call_tool(START_TRAINING, ctx, locals())


START_TRAINING = Tool(
    name="start_training",
    args=StartTrainingArgs,
    result=RunResult,
    invoke=_start,
    function=start_training,
    description=(
        "Start a real training run in the background and return its run_id at once. One worker per seed (in "
        "parallel up to --max-workers); data from the harness's get_train_batch(batch_size, step[, model]) when "
        "defined; metrics from evaluate(model) at the end, and with eval_every at step 0 and every eval_every steps "
        "(a history per seed: the objective's curve). Findings as it goes: objective_not_improving, "
        "non_finite_metric, train_eval_gap, buffers_not_updated, loss_not_decreasing, diverged, ... Records persist "
        "under .implement-paper/runs/ (TensorBoard events too, with the tensorboard extra). Then poll "
        "training_status(run_id, wait_s=30) and compare_metrics(run_id=...)."
    ),
)


async def training_status(
    ctx: Context,
    *,
    run_id: RunId,
    wait_s: WaitS = 0,
    reach: ReachArg = None,
    baseline: BaselineArg = None,
    ceiling: CeilingArg = None,
) -> Annotated[CallToolResult, RunResult]:
    return await call_tool(TRAINING_STATUS, ctx, locals())


TRAINING_STATUS = Tool(
    name="training_status",
    args=StatusArgs,
    result=RunResult,
    invoke=_status,
    function=training_status,
    description=(
        "Progress of a training run: status, seeds x steps done, partial loss curve (with what train_step returns "
        "beside the loss: epsilon, a KL weight, in curve.terms) and evaluation history per seed, the objective's "
        "best value and step, findings so far, final metrics (mean ± std over seeds) when "
        "done. reach={metric: value} gives the first step each seed reached that value. wait_s (≤ 50) waits for "
        "completion, reporting progress, before answering."
    ),
)


async def cancel_training(
    ctx: Context,
    *,
    run_id: RunId,
) -> Annotated[CallToolResult, RunResult]:
    return await call_tool(CANCEL_TRAINING, ctx, locals())


CANCEL_TRAINING = Tool(
    name="cancel_training",
    args=RunIdArgs,
    result=RunResult,
    invoke=_cancel,
    function=cancel_training,
    description="Cancel a running training run: its workers are killed; the record stays, marked cancelled.",
    destructive=True,
)


async def list_runs(
    ctx: Context,
    *,
    limit: Limit = 20,
) -> Annotated[CallToolResult, RunListResult]:
    return await call_tool(LIST_RUNS, ctx, locals())


LIST_RUNS = Tool(
    name="list_runs",
    args=ListRunsArgs,
    result=RunListResult,
    invoke=_list_runs,
    function=list_runs,
    description="The training runs recorded under this project (also those of earlier server sessions), newest "
    "first; files under runs/ that are not valid records are skipped and named.",
    read_only=True,
)

TOOLS = [START_TRAINING, TRAINING_STATUS, CANCEL_TRAINING, LIST_RUNS]
