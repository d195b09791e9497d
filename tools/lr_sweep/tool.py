"""lr_sweep: which learning rates train, which diverge, which one to use.

The worker (tools/lr_sweep/check.py) only measures losses (and the objective, when the
harness declares one); tools/lr_sweep/judge.py reads them. This file holds the arguments, the
result models, and the flow of the three modes:

* range: one range test, read for all its evidence. A test that saw too little learning, or
  an on-policy harness whose surrogate loss says nothing, is `lr_range_inconclusive`.
* grid: a short run per rate, split over the pool's workers and judged on the merged points
  exactly like a grid run in one piece; on the objective when there is one.
* auto: the range test, and a grid instead when the range test cannot judge: two rates at the
  top of what it ran when it saw too little learning and its guess is only that top (under
  momentum a clear rise of the loss is a landmark, and the test's guess stands: a two-rate grid
  from that rise down did no better on a noisy regressor, at 2.7x the time), over the whole range
  when the harness is on-policy or has a schedule (a ramp cannot sweep a base rate under one).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from ..runtime.dispatch import execute
from ..runtime.envelope import Finding, RunInfo, ToolResult, status_of
from ..runtime.harness_args import CallTimeout, Device, HarnessArgs, HarnessPath, HarnessSeed, ModelKwargs, Names
from ..runtime.runner import ProgressCallback
from ..runtime.tool import Runtime, Tool
from ..runtime.tool_call import call_tool
from ..shared.plots import lr_sweep_plot
from ..shared.reference_levels import BASELINE_DOC, Level, levels_field
from ..wire.compact import evenly_spaced, finite, significant
from ..wire.findings import ERROR, WARNING, finding, sort_findings
from . import judge as lr_judge
from .details import GridRun, LrMeasurements, OptimizerInfo
from .judge import GridScores, RangeEvidence, Verdict

NAME, CHECK = "lr_sweep", "lr_sweep"
DEFAULT_NUM_LRS = {"range": 100, "auto": 100, "grid": 8}
EDGE = 0.1  # a suggestion in the outer 10% of the log range sits on its edge
CURVE_POINTS = 100  # at most this many range-test points in details
# auto after an inconclusive test: 2 rates, the top of what the test vouches for and 0.75 decade below
# it, one per parallel worker, 2x the range test's steps each. The slow learners' best 200-step rates
# sat 1-6x below that top (docs/benchmarks.md); 100-step runs saw no learning on the sigmoid net, and a
# third rate would double the wall time (two rates in one worker).
FALLBACK_DECADES = 0.75
FALLBACK_RATES = 2
GRID_PER_DECADE = 2  # rates per decade of an auto-mode grid
MAX_FALLBACK_RATES = 13  # 6 decades at 2 per decade


MinLr = Annotated[float, Field(gt=0, le=100, description="Lowest learning rate swept.")]
MaxLr = Annotated[float, Field(gt=0, le=100, description="Highest learning rate swept.")]
NumLrs = Annotated[
    int | None,
    Field(
        ge=2,
        le=1000,
        description="range and auto: steps of the range test (default 100); grid: rates tried (default 8, at most 50).",
    ),
]
Steps = Annotated[
    int,
    Field(
        ge=1,
        le=10_000,
        description="grid: training steps per rate (auto's grid runs at least 2x the range test's steps).",
    ),
]
BatchSize = Annotated[
    int,
    Field(ge=1, le=65_536, description="Examples per training step (the harness's train batches)."),
]
Mode = Annotated[
    Literal["range", "grid", "auto"],
    Field(
        description="auto (default): the range test, and a grid only when the range test cannot judge, so a "
        "model that trains slowly gets an answer, not a warning; range: one run whose rate grows exponentially, "
        "one step per rate (fast, like lr_find); "
        "grid: a short run per rate from the same init (slower, run in parallel workers, judged on the objective "
        "when the harness declares one). auto falls back to a grid after too little learning, and for an "
        "on-policy harness or a make_scheduler.",
    ),
]
Baseline = Annotated[
    dict[str, Level] | None,
    levels_field(
        BASELINE_DOC + " lr_sweep compares every rate with the level of what it judges on (the objective's metric, "
        "or 'loss'): when no rate beats it, the ranking is low confidence and below_baseline (warning) says so.",
    ),
]


class LrSweepArgs(HarnessArgs):
    min_lr: MinLr = 1e-5
    max_lr: MaxLr = 1e-1
    num_lrs: NumLrs = None
    steps: Steps = 50
    batch_size: BatchSize = 64
    mode: Mode = "auto"
    baseline: Baseline = None

    @model_validator(mode="after")
    def _consistent(self) -> LrSweepArgs:
        if self.min_lr >= self.max_lr:
            raise ValueError(
                f"min_lr ({self.min_lr:g}) must be below max_lr ({self.max_lr:g}); e.g. min_lr=1e-5, max_lr=1e-1"
            )
        if self.num_lrs is None:
            self.num_lrs = DEFAULT_NUM_LRS[self.mode]
        if self.mode != "grid" and self.num_lrs < 20:
            raise ValueError(f"a range test needs num_lrs >= 20 steps to fit slopes (got {self.num_lrs}); try 100")
        if self.mode == "grid" and self.num_lrs > 50:
            raise ValueError(f"grid mode trains one model per rate: num_lrs must be <= 50 (got {self.num_lrs}); try 8")
        return self


class _GridChunkArgs(LrSweepArgs):
    """What one parallel worker of a grid gets: the same sweep, and which of its rates to run."""

    lr_indices: list[int]


class _MeasuredResult(ToolResult[LrMeasurements]):
    pass


_MEASUREMENTS = TypeAdapter(LrMeasurements)  # what a grid job streams as each rate ends


class RangeCurve(BaseModel):
    lr: list[float] = Field(description="Learning rate of each step (thinned to at most 100 points).")
    loss: list[float | None] = Field(description="Training loss at that step; null where NaN/Inf.")
    smoothed: list[float | None] = Field(description="Loss smoothed by a line fitted over a centred window of steps.")


class GridPoint(BaseModel):
    lr: float
    initial_loss: float | None = None
    final_loss: float | None = Field(None, description="Mean loss over the last 10% of steps; null if NaN/Inf.")
    best_loss: float | None = None
    objective: float | None = Field(
        None, description="The harness's objective after the run (evaluate), when declared."
    )
    steps_run: int
    diverged: bool = Field(description="NaN/Inf, or (judged on the loss) the loss blew up to 4x its initial value.")


class StableRange(BaseModel):
    low: float | None = Field(
        None,
        description="Lowest rate that trains: range, where the smoothed loss has made 10% of its drop; grid, the "
        "lowest rate whose run made at least half the best rate's improvement of the loss/objective.",
    )
    high: float | None = Field(None, description="Highest rate that trains before the sweep diverged.")
    high_open: bool = Field(False, description="Nothing diverged above `high`: rates beyond max_lr may train too.")
    decades: float | None = Field(None, description="log10(high / low): how wide a range of rates trains.")


class LrSweepDetails(BaseModel):
    mode: Literal["range", "grid"] = Field(description="The sweep that decided the suggestion.")
    requested_mode: Literal["range", "grid", "auto"]
    suggested_lr: float | None = Field(None, description="The rate to use; null when no rate trains.")
    confidence: Literal["high", "medium", "low"] | None = Field(
        None,
        description="high: two independent readings agree within 3x (range) or the best rate lies inside the grid; "
        "medium: they disagree, or the best grid rate is its end; low: the range test was inconclusive, the grid's "
        "scores differ by noise, or no rate beats the baseline.",
    )
    rule: str = Field(description="How suggested_lr was chosen.")
    fallback: str | None = Field(None, description="auto: why a grid was run after (or instead of) the range test.")
    judged_on: str = Field("loss", description="'loss', or the objective the grid was judged on.")
    score_noise: float | None = Field(
        None,
        description="grid: run-to-run noise of the scores (from how unevenly neighbouring rates score), set when the "
        "best rate leads the typical one by less than 3 of it: one run per rate cannot rank them (low confidence).",
    )
    optimizer: OptimizerInfo | None = None
    stable_range: StableRange = Field(default_factory=StableRange)
    alternatives: dict[str, float | None] = Field(
        default_factory=dict,
        description="range: other readings: steepest (descent on log lr), valley (geometric middle of the descent, "
        "10% to 90% of the drop), min_over_10 (rate of the lowest loss / 10), lowest_loss, below_divergence "
        "(the divergence rate / 5).",
    )
    initial_loss: float | None = None
    lowest_loss: float | None = None
    best_objective: float | None = Field(None, description="grid judged on an objective: its best value.")
    diverged_from_lr: float | None = Field(None, description="Lowest rate judged diverged; null if none.")
    curve: RangeCurve | None = Field(None, description="The range test's loss curve, when one ran.")
    points: list[GridPoint] | None = Field(None, description="Every rate of the grid, when one ran.")


class LrSweepResult(ToolResult[LrSweepDetails]):
    pass


@dataclass
class Judged:
    """A sweep read by lr_judge, before the envelope."""

    verdict: Verdict | None
    details: LrSweepDetails
    findings: list[dict] = field(default_factory=list)
    evidence: RangeEvidence | None = None  # range test: what it showed


# ---- findings ------------------------------------------------------------------------------------


def _no_stable_lr(message: str, initial: float | None, diverged: list[float], grid: bool) -> dict:
    longer = "" if grid else " A range test may not show a slow learner: call lr_sweep with mode='grid' or 'auto'."
    return finding(
        "no_stable_lr",
        ERROR,
        message,
        # A grid's initial score is NaN when unknown, and a result is JSON: no NaN.
        evidence={
            "initial": significant(initial) if finite(initial) else None,
            "diverged_lrs": [significant(lr, 3) for lr in diverged],
        },
        suggestion="If the loss never moves, suspect a detached graph or a loss that ignores the model: call "
        "gradient_check and run_overfit_test. If every rate diverges, lower min_lr and call check_initialization."
        + longer,
    )


def _inconclusive(message: str, args: LrSweepArgs, evidence: dict[str, Any], blind: bool = True) -> dict:
    steps = max(args.steps, 2 * args.num_lrs)
    call = (
        "mode='auto' (a grid over the top of the range when the test is inconclusive) "
        f"or mode='grid' with steps={steps}"
        if blind
        else f"mode='grid' and steps={steps} around the suggested rate (auto keeps it: under momentum, where the loss "
        "rose clearly is a landmark)"
    )
    return finding(
        "lr_range_inconclusive",
        WARNING,
        message,
        where="mode",
        evidence=evidence,
        suggestion=f"Call lr_sweep with {call}; a slow learner (deep tanh or sigmoid nets under plain SGD) or a "
        "noisy loss needs longer runs per rate than a range test gives it.",
    )


def _below_baseline(
    args: LrSweepArgs, metric: str, sign: float, scores: list[float], verdict: Verdict | None
) -> dict | None:
    """Every rate's score (lower is better, `sign` * the metric) worse than the baseline's: the ranking
    orders runs no better than a trivial method, so the suggestion is low confidence."""
    level = (args.baseline or {}).get(metric)
    if level is None or verdict is None or not scores or min(scores) <= sign * level:
        return None
    verdict.confidence = "low"
    values = sorted(sign * s for s in scores)
    seen = (
        f"{values[0]:.4g} to {values[-1]:.4g} over the rates"
        if len(values) > 1
        else f"at best {values[0]:.4g} (smoothed)"
    )
    return finding(
        "below_baseline",
        WARNING,
        f"every learning rate is below the baseline: {metric} {seen}, against {level:g} for a trivial method; "
        "the ranking orders runs that have not yet beaten it",
        where=metric,
        evidence={"baseline": level, "lowest": values[0], "highest": values[-1]},
        suggestion="Train each rate longer (steps) before ranking them, and check that the method learns at all "
        "(run_overfit_test, gradient_check, start_training at a middle rate) before tuning its lr.",
    )


def _range_edge(lr: float, args: LrSweepArgs, evidence: RangeEvidence) -> dict | None:
    """A range test's suggestion in the outer 10% of the log range (its slopes stop half a window
    short of the ends: the zone widens to match), or a loss falling fastest at either end of the
    range; past the upper edge only if nothing diverged, since a divergence brackets the best rate."""
    edge = max(EDGE, (lr_judge.half_window(args.num_lrs) + 0.5) / (args.num_lrs - 1))
    position = math.log(lr / args.min_lr) / math.log(args.max_lr / args.min_lr)
    half, last = lr_judge.half_window(len(evidence.lrs)), len(evidence.lrs) - 1
    where = f"the suggested rate {lr:.3g} sits at the {{}} edge of the swept range [{args.min_lr:g}, {args.max_lr:g}]"
    if evidence.steepest == half:
        position, where = (
            0.0,
            f"the loss fell fastest at the first rates of the swept range [{args.min_lr:g}, {args.max_lr:g}]",
        )
    elif evidence.diverged_lr is None and evidence.low == last and evidence.steepest == last - half:
        position, where = (
            1.0,
            f"the loss fell fastest at the last rates of the swept range [{args.min_lr:g}, {args.max_lr:g}]",
        )
    if edge < position < 1 - edge or (position >= 1 - edge and evidence.diverged_lr is not None):
        return None
    return _edge_finding(lr, args, position, where)


def _grid_edge(lr: float, args: LrSweepArgs, grid_args: LrSweepArgs, lrs: list[float]) -> dict | None:
    """A grid's suggestion at its highest or lowest rate, where that end is the end of the range
    asked for (auto's grid over the top starts above min_lr, and ends where the range test blew up)."""
    at_top = lr >= max(lrs) and grid_args.max_lr >= args.max_lr
    at_bottom = lr <= min(lrs) and grid_args.min_lr <= args.min_lr
    if not (at_top or at_bottom):
        return None
    where = f"the suggested rate {lr:.3g} sits at the {{}} edge of the swept range [{args.min_lr:g}, {args.max_lr:g}]"
    return _edge_finding(lr, args, 1.0 if at_top else 0.0, where)


def _edge_finding(lr: float, args: LrSweepArgs, position: float, where: str) -> dict:
    upper = position >= 0.5
    bound, wider = ("max_lr", f"max_lr={args.max_lr * 100:g}") if upper else ("min_lr", f"min_lr={args.min_lr / 100:g}")
    return finding(
        "lr_at_range_edge",
        WARNING,
        f"{where.format('upper' if upper else 'lower')}: the best rate may lie beyond {bound}",
        where=bound,
        evidence={
            "suggested_lr": significant(lr, 3),
            "min_lr": args.min_lr,
            "max_lr": args.max_lr,
            "position": round(position, 3),
        },
        suggestion=f"Call lr_sweep again with {wider}.",
    )


# ---- details -------------------------------------------------------------------------------------


def _diverged_from(evidence: RangeEvidence, verdict: Verdict) -> float | None:
    """Where the range test diverged. An inconclusive test's crossing of its start is noise: only a
    clear rise its rule read (momentum), or the rate at which it blew up, counts there."""
    if evidence.learned:
        return evidence.diverged_lr
    return evidence.hard_stop_lr if verdict.blind else verdict.ceiling


def _curve(measured: LrMeasurements, evidence: RangeEvidence | None) -> RangeCurve:
    keep = evenly_spaced(len(measured.lrs), CURVE_POINTS)
    smoothed = evidence.smoothed if evidence else []
    return RangeCurve(
        lr=[significant(measured.lrs[i], 3) for i in keep],
        loss=[significant(measured.losses[i]) for i in keep],
        smoothed=[significant(smoothed[i]) if i < len(smoothed) else None for i in keep],
    )


def _details(
    args: LrSweepArgs, mode: str, verdict: Verdict | None, measured: LrMeasurements, **fields
) -> LrSweepDetails:
    stable = StableRange()
    if verdict is not None and verdict.stable_low is not None:
        stable = StableRange(
            low=significant(verdict.stable_low, 3),
            high=significant(verdict.stable_high, 3),
            high_open=verdict.high_open,
            decades=round(math.log10(verdict.stable_high / verdict.stable_low), 2),
        )
    return LrSweepDetails(
        mode=mode,
        requested_mode=args.mode,
        suggested_lr=significant(verdict.suggested_lr, 3) if verdict else None,
        confidence=verdict.confidence if verdict and verdict.suggested_lr is not None else None,
        rule=verdict.rule if verdict else "none: no rate trains",
        optimizer=measured.optimizer,
        stable_range=stable,
        alternatives={k: significant(v, 3) for k, v in verdict.alternatives.items()} if verdict else {},
        **fields,
    )


# ---- range ---------------------------------------------------------------------------------------


def _judge_range(args: LrSweepArgs, measured: LrMeasurements) -> Judged:
    if measured.traits.on_policy:
        message = (
            "the harness is on-policy (get_train_batch takes the model) or an adversarial game: its loss is a "
            "surrogate whose value does not say whether a rate works, so a range test cannot judge it"
        )
        verdict = Verdict(None, "none: a surrogate loss is judged on the objective, in grid mode", inconclusive=message)
        return Judged(verdict, _details(args, "range", verdict, measured), [_inconclusive(message, args, {})])
    evidence = lr_judge.range_evidence(measured.lrs, measured.losses, args.num_lrs, measured.traits.chance_loss)
    if evidence is None:
        message = f"the loss is NaN/Inf at the first step, at lr {args.min_lr:g}"
        return Judged(
            None, _details(args, "range", None, measured), [_no_stable_lr(message, None, [args.min_lr], False)]
        )
    family = measured.optimizer.family if measured.optimizer else "adaptive"
    if evidence.learned:
        verdict = lr_judge.judge_range(evidence, family)
        found = [_range_edge(verdict.suggested_lr, args, evidence)]
    else:
        why = lr_judge.too_little_learning(evidence, args.min_lr)
        verdict = lr_judge.judge_inconclusive(evidence, why, family)
        evidence_of = {"drop": round(evidence.drop, 4), "noise": significant(evidence.noise, 3)}
        found = [_inconclusive(why, args, evidence_of, verdict.blind)]
    if measured.traits.scheduler:
        verdict.rule += (
            "; make_scheduler not applied (the range test sets the rate each step: grid/auto sweep under it)"
        )
    lowest = [evidence.smoothed[evidence.low]]
    found.append(_below_baseline(args, "loss", 1.0, lowest, verdict if verdict.suggested_lr is not None else None))
    details = _details(
        args,
        "range",
        verdict,
        measured,
        initial_loss=significant(evidence.initial),
        lowest_loss=significant(verdict.lowest_loss),
        diverged_from_lr=significant(_diverged_from(evidence, verdict), 3),
        curve=_curve(measured, evidence),
    )
    return Judged(verdict, details, [f for f in found if f is not None], evidence)


# ---- grid ----------------------------------------------------------------------------------------


def _grid_point(run: GridRun, monitor: str | None) -> GridPoint:
    losses = run.losses
    all_finite = all(finite(v) for v in losses)
    tail = losses[-max(1, len(losses) // 10) :]
    objective = run.metrics.get(monitor) if monitor else None
    return GridPoint(
        lr=significant(run.lr, 3),
        initial_loss=significant(losses[0]) if losses else None,
        final_loss=significant(sum(tail) / len(tail)) if all_finite and losses else None,
        best_loss=significant(min((v for v in losses if finite(v)), default=None)),
        objective=significant(objective),
        steps_run=len(losses),
        diverged=not all_finite or run.blew_up or (monitor is not None and not finite(objective)),
    )


def _grid_scores(runs: list[GridRun], points: list[GridPoint], measured: LrMeasurements) -> GridScores:
    """Lower is better: the final loss, or the objective signed by its mode."""
    objective = measured.traits.objective
    if objective is None:
        initial = runs[0].losses[0] if runs and runs[0].losses and finite(runs[0].losses[0]) else math.nan
        return GridScores([r.lr for r in runs], [None if p.diverged else p.final_loss for p in points], initial)
    sign = -1.0 if objective["mode"] == "max" else 1.0
    initial = measured.initial_metrics.get(objective["monitor"])
    return GridScores(
        [r.lr for r in runs],
        [None if p.diverged else sign * p.objective for p in points],
        sign * initial if finite(initial) else math.nan,
    )


def _judge_grid(args: LrSweepArgs, grid_args: LrSweepArgs, measured: LrMeasurements) -> Judged:
    runs = sorted(measured.points, key=lambda run: run.index)
    objective = measured.traits.objective
    points = [_grid_point(run, objective["monitor"] if objective else None) for run in runs]
    scores = _grid_scores(runs, points, measured)
    diverged = [r.lr for r, p in zip(runs, points) if p.diverged]
    verdict = lr_judge.judge_grid(scores)
    judged_on = f"objective {objective['monitor']!r} ({objective['mode']})" if objective else "loss"
    found = []
    if verdict is None:
        what = f"improved the {judged_on}" if objective else "lowered the loss"
        message = (
            f"no rate of the grid from {grid_args.min_lr:.3g} to {grid_args.max_lr:.3g} ({grid_args.steps} steps each) "
            f"{what} by {lr_judge.MIN_DROP:.1%}" + (" (every rate diverged)" if len(diverged) == len(runs) else "")
        )
        found.append(_no_stable_lr(message, scores.initial, diverged, True))
    else:
        found.append(_grid_edge(verdict.suggested_lr, args, grid_args, [r.lr for r in runs]))
    sign = -1.0 if objective and objective["mode"] == "max" else 1.0
    metric = objective["monitor"] if objective else "loss"
    below = _below_baseline(args, metric, sign, [s for s in scores.scores if s is not None], verdict)
    found.append(below)
    details = _details(
        args,
        "grid",
        verdict,
        measured,
        judged_on=judged_on,
        initial_loss=points[0].initial_loss if points else None,
        lowest_loss=significant(verdict.lowest_loss) if verdict and not objective else None,
        best_objective=significant(sign * verdict.lowest_loss) if verdict and objective else None,
        diverged_from_lr=significant(min(diverged), 3) if diverged else None,
        points=points,
        score_noise=significant(verdict.noise) if verdict and verdict.noise is not None else None,
    )
    return Judged(verdict, details, [f for f in found if f is not None])


# ---- running: one job for a range test, a grid split over the pool's workers --------------------


async def _measure_grid(
    args: LrSweepArgs, runtime: Runtime, progress: ProgressCallback | None
) -> list[_MeasuredResult]:
    """Run the grid's rates in `max_workers` concurrent jobs, interleaved so each gets low and high rates."""
    jobs = min(runtime.executor.max_workers, args.num_lrs)
    results: list[_MeasuredResult | None] = [None] * jobs
    done = [0.0] * jobs
    total = args.num_lrs * args.steps

    async def run_chunk(job: int) -> None:
        async def relay(job_done: float, _: float | None, message: str | None) -> None:
            done[job] = job_done
            if progress is not None:
                await progress(sum(done), total, message)

        finished: list[dict] = []  # the rates this chunk finished, as it streams them

        def keep(data: dict) -> None:
            # Only a rate's end carries "grid"; the training curve's points stream between them.
            if "grid" in data:
                finished.append(data["grid"])

        chunk = _GridChunkArgs(**args.model_dump(), lr_indices=list(range(job, args.num_lrs, jobs)))
        result = await execute(CHECK, NAME, _MeasuredResult, chunk, runtime, relay, keep, fan_out=True)
        results[job] = _with_finished_rates(result, finished)

    async with anyio.create_task_group() as tasks:
        for job in range(jobs):
            tasks.start_soon(run_chunk, job)
    return results


def _with_finished_rates(result: _MeasuredResult, finished: list[dict]) -> _MeasuredResult:
    """A chunk stopped at its timeout keeps the rates it finished: judged with the others, beside the
    timeout finding (the result stays an error: not every rate ran)."""
    timed_out = any(f.code == "timeout" for f in result.findings)
    if not timed_out or result.details is not None or not finished:
        return result
    try:
        details = _MEASUREMENTS.validate_python(finished[-1])
    except ValidationError:
        return result
    ran = len(details.points)
    for item in result.findings:
        if item.code == "timeout":
            item.message += f"; the {ran} rate(s) it finished are judged with the others"
    return result.model_copy(update={"details": details})


def _merged(results: list[_MeasuredResult]) -> LrMeasurements:
    first = results[0].details
    # In rate order, however the rates were split into jobs (the chunks interleave them).
    points = sorted((p for r in results for p in r.details.points), key=lambda p: p.index)
    return dataclasses.replace(first, points=points)


def _fallback_grid(args: LrSweepArgs, measured: LrMeasurements, judged: Judged) -> tuple[LrSweepArgs, str] | None:
    """auto: the grid to run when the range test could not judge, and why; None when it could."""
    traits = measured.traits
    if traits.on_policy or traits.scheduler:
        low, high, steps = args.min_lr, args.max_lr, args.steps
        why = "the harness's loss is a surrogate" if traits.on_policy else "the harness has make_scheduler"
        reason = f"{why}: a grid sweeps the base rate over the whole range instead of a range test"
        count = min(MAX_FALLBACK_RATES, max(3, round(GRID_PER_DECADE * math.log10(high / low)) + 1))
    elif judged.verdict is not None and judged.verdict.inconclusive and judged.verdict.blind:
        top = judged.verdict.ceiling
        low, high, steps = max(args.min_lr, top / 10**FALLBACK_DECADES), top, max(args.steps, 2 * args.num_lrs)
        reason = (
            f"the range test was inconclusive ({judged.verdict.inconclusive}); a grid at the top of what it vouches for"
        )
        count = FALLBACK_RATES
    else:
        return None
    if low >= high:
        low, high = args.min_lr, args.max_lr
    grid = args.model_copy(update={"mode": "grid", "min_lr": low, "max_lr": high, "num_lrs": count, "steps": steps})
    return grid, f"{reason}: {count} rates from {low:.3g} to {high:.3g}, {steps} steps each"


def _failed(results: list[_MeasuredResult]) -> list[_MeasuredResult]:
    """Jobs with nothing to judge (a chunk that timed out after finishing some rates has something)."""
    return [r for r in results if r.details is None or (r.status == "error" and not _timed_out_with_rates(r))]


def _timed_out_with_rates(result: _MeasuredResult) -> bool:
    return any(f.code == "timeout" for f in result.findings) and bool(result.details and result.details.points)


def _failure(results: list[_MeasuredResult], run: RunInfo) -> LrSweepResult:
    failed = _failed(results)
    # The same harness error comes back from every job: report each distinct one once.
    unique = {(f.code, f.where, f.message): f for r in failed for f in r.findings}
    findings = sort_findings(list(unique.values()))
    return LrSweepResult(status=status_of(findings), summary=failed[0].summary, findings=findings, run=run)


def _merged_run(results: list[_MeasuredResult], started: float) -> RunInfo:
    """The first job's run info, timed over the whole call, with the largest memory peak."""
    run = (results[0].run or RunInfo(duration_s=0)).model_copy()
    run.duration_s = round(time.perf_counter() - started, 3)
    peaks = [r.run.peak_rss_mb for r in results if r.run and r.run.peak_rss_mb is not None]
    run.peak_rss_mb = max(peaks, default=None)
    return run


async def _sweep(args: LrSweepArgs, runtime: Runtime, progress: ProgressCallback | None) -> tuple[Judged | None, list]:
    """Measure and judge in the requested mode: (the judged sweep, every job's result)."""
    if args.mode == "grid":
        results = await _measure_grid(args, runtime, progress)
        return (None if _failed(results) else _judge_grid(args, args, _merged(results))), results
    first = await execute(CHECK, NAME, _MeasuredResult, args, runtime, progress)
    if _failed([first]):
        return None, [first]
    judged = _judge_range(args, first.details)
    fallback = _fallback_grid(args, first.details, judged) if args.mode == "auto" else None
    if fallback is None:
        return judged, [first]
    grid_args, reason = fallback
    results = await _measure_grid(grid_args, runtime, progress)
    if _failed(results):
        return None, [first, *results]
    by_grid = _judge_grid(args, grid_args, _merged(results))
    by_grid.details.fallback = reason
    by_grid.details.curve = judged.details.curve
    return by_grid, [first, *results]


def _caveats(args: LrSweepArgs, judged: Judged) -> list[str]:
    """What keeps the suggestion from being trusted: scores within noise, no rate above the baseline, and
    a baseline given for a metric the sweep does not judge on."""
    details, sentences = judged.details, []
    if details.score_noise is not None:
        sentences.append(
            f"The rates' {details.judged_on} differ by no more than run-to-run noise (±{details.score_noise:.2g}): "
            "one run per rate cannot rank them"
        )
    below = next((f for f in judged.findings if f["code"] == "below_baseline"), None)
    if below is not None:
        sentences.append(below["message"][0].upper() + below["message"][1:])
    metric = "loss" if details.judged_on == "loss" else details.judged_on.split("'")[1]
    unused = sorted(set(args.baseline or {}) - {metric})
    if unused:
        sentences.append(f"Baseline for {', '.join(unused)} not used: this sweep is judged on {metric}")
    return sentences


def _summary(args: LrSweepArgs, judged: Judged) -> str:
    details, verdict = judged.details, judged.verdict
    if details.suggested_lr is None:
        first = judged.findings[0] if judged.findings else {"message": "no rate trains"}
        return f"No learning rate in [{args.min_lr:g}, {args.max_lr:g}] could be suggested: {first['message']}."
    if verdict.inconclusive and details.mode == "range":
        return (
            f"Inconclusive range test: {verdict.inconclusive}. "
            f"Best guess lr {details.suggested_lr:.2g} (low confidence: "
            f"0.4 decade under the highest rate the test vouches for, {verdict.ceiling:.2g}). "
            f"{judged.findings[0]['suggestion']}"
        )
    optimizer = f", {details.optimizer.name} ({details.optimizer.family})" if details.optimizer else ""
    sentences = [
        f"Suggested lr {details.suggested_lr:.2g} ({details.confidence} confidence; {details.mode}{optimizer})"
    ]
    stable = details.stable_range
    limit = (
        f"diverges from {details.diverged_from_lr:.2g}" if details.diverged_from_lr is not None else "nothing diverged"
    )
    if stable.low is not None:
        top = f"{stable.high:.2g}{'+' if stable.high_open else ''}"
        sentences.append(f"Trains from lr {stable.low:.2g} to {top} ({stable.decades:.1f} decades); {limit}")
    else:
        sentences[0] += f"; {limit}"
    sentences += _caveats(args, judged)
    if details.fallback:
        sentences.append(f"auto: {details.fallback}")
    others = ", ".join(f"{name} {lr:.2g}" for name, lr in details.alternatives.items() if lr is not None)
    if others:
        sentences.append(f"Alternatives: {others}")
    return ". ".join(sentences) + "."


async def _invoke(args: LrSweepArgs, runtime: Runtime, progress: ProgressCallback | None) -> LrSweepResult:
    started = time.perf_counter()
    judged, results = await _sweep(args, runtime, progress)
    run = _merged_run(results, started)
    if judged is None:
        return _failure(results, run)
    # loss_below_floor / loss_unbounded on the swept curves: each code once, though every grid job judges its own.
    worker = {f.code: f for r in reversed(results) for f in r.findings}
    findings = sort_findings([*worker.values(), *(Finding.model_validate(f) for f in judged.findings)])
    summary = _summary(args, judged)
    # A loss verdict on the curves (below its floor, unbounded) is the news, whatever the rate.
    bugs = [f for f in findings if f.severity == "error" and f.code != "no_stable_lr"]
    if bugs:
        summary = f"{bugs[0].code}: {bugs[0].message}. {summary}"
    return LrSweepResult(
        status=status_of(findings), summary=summary, findings=findings, details=judged.details, run=run
    )


def plotted_metric(details: LrSweepDetails) -> str:
    """What a grid's plot shows on its y axis: 'final loss', or the objective, e.g. 'return (max)'."""
    if details.judged_on == "loss":
        return "final loss"
    return details.judged_on.removeprefix("objective ").replace("'", "")


def _plot(result: LrSweepResult) -> list[tuple[str, bytes]]:
    details = result.details
    if details is None or (details.curve is None and not details.points):
        return []
    if details.mode == "range":
        png = lr_sweep_plot(
            details.curve.lr, details.curve.loss, smoothed=details.curve.smoothed, suggested_lr=details.suggested_lr,
            title="lr_sweep (range): loss against learning rate", metric="loss",
        )  # fmt: skip
    else:
        stable = [p for p in details.points if not p.diverged]
        metric = plotted_metric(details)
        png = lr_sweep_plot(
            [p.lr for p in stable],
            [p.objective if details.judged_on != "loss" else p.final_loss for p in stable],
            suggested_lr=details.suggested_lr,
            diverged_lrs=[p.lr for p in details.points if p.diverged],
            title=f"lr_sweep (grid): {metric} per rate",
            metric=metric,
        )
    return [("lr_sweep", png)]


async def lr_sweep(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: CallTimeout = None,
    min_lr: MinLr = 1e-5,
    max_lr: MaxLr = 1e-1,
    num_lrs: NumLrs = None,
    steps: Steps = 50,
    batch_size: BatchSize = 64,
    mode: Mode = "auto",
    baseline: Baseline = None,
) -> Annotated[CallToolResult, LrSweepResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = Tool(
    name=NAME,
    args=LrSweepArgs,
    result=LrSweepResult,
    function=lr_sweep,
    description=(
        "Which learning rates train, which diverge, which one to use? mode='range': one run whose rate "
        "grows exponentially from min_lr to max_lr, one step per rate (fast, like lr_find), read for the descent, "
        "the minimum and the divergence point by the optimiser's family (SGD with momentum: 1/5 of the divergence "
        "rate; plain SGD: the steepest descent on a log-lr axis; Adam: between that and a third of the minimum's "
        "rate). mode='grid': a short run of `steps` per rate from the same init under make_scheduler, in parallel "
        "workers; judged on the harness's objective (evaluate after each run) when declared, else the final loss. "
        "mode='auto' (default): the range test, then a "
        "grid when it cannot judge (too little learning, on-policy, make_scheduler). details: suggested_lr with its "
        "confidence and rule, stable_range (lowest and highest rate that train), alternatives, the curve and/or "
        "points. Findings: lr_range_inconclusive (use auto or grid), no_stable_lr, lr_at_range_edge (widen the "
        "range), loss_below_floor, loss_unbounded. Call after run_overfit_test and gradient_check pass."
    ),
    invoke=_invoke,
    plot=_plot,
)
