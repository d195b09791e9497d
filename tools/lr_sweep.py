"""lr_sweep: which learning rates train, which diverge, which one to use.

The worker (tools/worker/lr_sweep.py) only measures losses; all judging happens here, in
one function for both modes, so that a grid split over parallel workers is judged on its
merged points exactly like a grid run in one piece.

Why the range test's suggestion is the steepest descent on a *log* LR axis, fitted over a
window: the rates are log-spaced, so slopes against the raw rate crush the low end and
favour the flat region; and an exponential moving average lags behind the curve and,
bias-corrected, is noisiest at the start, which is where Lightning's lr_find has picked
flat-region rates (Lightning issues #21141, #14167). A line fitted over a centred window has no lag.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Literal

import anyio
from pydantic import BaseModel, Field, model_validator

from .envelope import Finding, RunInfo, ToolResult, sort_findings, status_of
from .harness_tool import HarnessArgs, Runtime, Tool, execute
from .plots import lr_sweep_plot
from .runner import ProgressCallback
from .worker.findings import ERROR, WARNING, finding

NAME, CHECK = "lr_sweep", "lr_sweep"
DEFAULT_NUM_LRS = {"range": 100, "grid": 8}
# A rate "trains" when it lowers the loss by at least 2.5% of its initial value. Measured over a
# 100-step range test: clean models fell 3.7% (a one-layer transformer) to 100%; a model whose
# output is detached from the task loss fell 1.7% (its L2 term alone).
MIN_DROP = 0.025
NEAR_BEST = 0.05  # grid: rates whose final loss is within 5% of the total drop from the best count as tied
NOISE_SIGMAS = 3.0  # ... and by more than 3 standard errors of a smoothed point
EDGE = 0.1  # range: a suggestion in the outer 10% of the log range sits on its edge
CURVE_POINTS = 100  # at most this many range-test points in details


class LrSweepArgs(HarnessArgs):
    min_lr: float = Field(1e-5, gt=0, le=100, description="Lowest learning rate swept.")
    max_lr: float = Field(1e-1, gt=0, le=100, description="Highest learning rate swept.")
    num_lrs: int | None = Field(
        None, ge=2, le=1000, description="range: steps of the range test (default 100); grid: rates tried (default 8, at most 50)."
    )
    steps: int = Field(50, ge=1, le=10_000, description="grid only: training steps per rate.")
    batch_size: int = Field(64, ge=1, le=65_536, description="Examples per training step (the harness's train batches).")
    mode: Literal["range", "grid"] = Field(
        "range",
        description="range: one run whose rate grows exponentially, one step per rate (fast, like lr_find); "
        "grid: a short run per rate from the same init (slower, run in parallel workers, more faithful).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> LrSweepArgs:
        if self.min_lr >= self.max_lr:
            raise ValueError(
                f"min_lr ({self.min_lr:g}) must be below max_lr ({self.max_lr:g}); e.g. min_lr=1e-5, max_lr=1e-1"
            )
        if self.num_lrs is None:
            self.num_lrs = DEFAULT_NUM_LRS[self.mode]
        if self.mode == "range" and self.num_lrs < 20:
            raise ValueError(f"a range test needs num_lrs >= 20 steps to fit slopes (got {self.num_lrs}); try 100")
        if self.mode == "grid" and self.num_lrs > 50:
            raise ValueError(f"grid mode trains one model per rate: num_lrs must be <= 50 (got {self.num_lrs}); try 8")
        return self


class _GridChunkArgs(LrSweepArgs):
    """What one parallel worker of a grid gets: the same sweep, and which of its rates to run."""

    lr_indices: list[int]


class _GridRun(BaseModel):
    index: int
    lr: float
    losses: list[float | None]
    blew_up: bool  # the run ended with its loss far above the initial (the worker's early-stop rule)


class _Measured(BaseModel):
    lrs: list[float] = []  # range: the rate of each step that ran
    losses: list[float | None] = []  # range: the loss of each step (null: NaN/Inf)
    points: list[_GridRun] = []  # grid


class _MeasuredResult(ToolResult[_Measured]):
    pass


class RangeCurve(BaseModel):
    lr: list[float] = Field(description="Learning rate of each step (thinned to at most 100 points).")
    loss: list[float | None] = Field(description="Training loss at that step; null where NaN/Inf.")
    smoothed: list[float | None] = Field(description="Loss smoothed by a line fitted over a centred window of steps.")


class GridPoint(BaseModel):
    lr: float
    initial_loss: float | None = None
    final_loss: float | None = Field(None, description="Mean loss over the last 10% of steps; null if NaN/Inf.")
    best_loss: float | None = None
    steps_run: int
    diverged: bool = Field(description="NaN/Inf, or the loss blew up to 4x its initial value.")


class LrSweepDetails(BaseModel):
    mode: Literal["range", "grid"]
    suggested_lr: float | None = Field(None, description="The rate to use; null when no rate trains.")
    rule: str = Field(description="How suggested_lr was chosen.")
    alternatives: dict[str, float | None] = Field(
        default_factory=dict,
        description="Other classic picks: steepest (descent on log lr), valley (geometric middle of the descent, "
        "from 10% to 90% of the total drop), min_over_10 (rate of the lowest loss / 10), lowest_loss.",
    )
    initial_loss: float | None = None
    lowest_loss: float | None = None
    diverged_from_lr: float | None = Field(None, description="Lowest rate judged diverged; null if none.")
    curve: RangeCurve | None = Field(None, description="range mode: the loss curve.")
    points: list[GridPoint] | None = Field(None, description="grid mode: one entry per rate.")


class LrSweepResult(ToolResult[LrSweepDetails]):
    pass


# ---- judging: pure arithmetic on (rate, loss) pairs, one function for both modes ----------------


def _sig(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else float(f"{value:.{digits}g}")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _half_window(count: int) -> int:
    """Half-width of the smoothing and slope windows: 10 steps (0.4 decade) of a 100-step range test."""
    return max(1, count // 10)


def _line(xs: list[float], ys: list[float], at: float) -> tuple[float, float]:
    """(value at `at`, slope) of the least-squares line through (xs, ys)."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my + slope * (at - mx), slope


def _smooth(lrs: list[float], losses: list[float]) -> list[float]:
    """Each loss replaced by a line fitted over its centred window against log10(lr): no lag, unlike
    an exponential average, and no pull towards the middle at the ends, unlike a moving average."""
    if len(lrs) < 2:
        return list(losses)
    logs, half = [math.log10(lr) for lr in lrs], _half_window(len(lrs))
    return [
        _line(logs[max(0, i - half) : i + half + 1], losses[max(0, i - half) : i + half + 1], logs[i])[0]
        for i in range(len(lrs))
    ]


def _position(lr: float, args: LrSweepArgs) -> float:
    """Where lr lies in the swept range on a log axis: 0 at min_lr, 1 at max_lr."""
    return math.log(lr / args.min_lr) / math.log(args.max_lr / args.min_lr)


@dataclass
class Verdict:
    suggested_lr: float | None
    rule: str
    alternatives: dict[str, float | None] = field(default_factory=dict)
    lowest_loss: float | None = None
    findings: list[dict] = field(default_factory=list)


def judge(
    args: LrSweepArgs, lrs: list[float], losses: list[float], smoothed: list[float], initial: float, diverged: list[float]
) -> Verdict:
    """Suggest a rate from the stable part of a sweep, ascending rates: `losses` are the range test's
    per-step losses or the grid's final losses, `smoothed` the same (a grid is not smoothed);
    `diverged` the rates judged diverged, left out of `lrs`."""
    if not _finite(initial):
        return _no_stable_lr("the loss is NaN/Inf before any training step", initial, diverged)
    if not losses:
        return _no_stable_lr(f"the loss diverged at every rate from {args.min_lr:g} to {args.max_lr:g}", initial, diverged)
    low = min(range(len(smoothed)), key=smoothed.__getitem__)
    steepest = _steepest(lrs, losses, low)
    drop = (initial - smoothed[low]) / max(abs(initial), 1e-12)
    noise = _noise(losses, smoothed, low)
    # A loss that barely moved but falls fastest at max_lr has not started training yet: the range
    # is too low (an edge), not a broken model.
    still_falling = not diverged and low == len(losses) - 1 and steepest == len(losses) - 1 - _half_window(len(lrs))
    if (drop < MIN_DROP or initial - smoothed[low] < NOISE_SIGMAS * noise) and not still_falling:
        return _no_stable_lr(
            f"no rate from {args.min_lr:g} to {args.max_lr:g} lowered the loss by {MIN_DROP:.1%} and beyond "
            f"batch noise: best {smoothed[low]:.4g} from {initial:.4g} ({drop:.1%} lower, noise ±{noise:.2g})",
            initial,
            diverged,
        )
    alternatives = {
        "steepest": lrs[steepest] if steepest is not None else None,
        "valley": _valley(lrs, smoothed, initial, low),
        "min_over_10": lrs[low] / 10,
        "lowest_loss": lrs[low],
    }
    if args.mode == "grid":
        suggested, rule = _middle_of_best(lrs, smoothed, initial, low)
    elif steepest is not None:
        suggested = lrs[steepest]
        rule = (
            f"steepest descent of the loss against log10(lr), slope fitted over {2 * _half_window(len(lrs)) + 1} "
            "steps, searched before the loss minimum"
        )
    else:
        suggested = alternatives["min_over_10"]
        rule = "fallback min_over_10: the loss had no descent to measure before its minimum"
    verdict = Verdict(
        _sig(suggested, 3), rule, {name: _sig(lr, 3) for name, lr in alternatives.items()}, _sig(smoothed[low])
    )
    position = _position(suggested, args)
    # The range test's slopes stop half a window short of the ends: widen the edge zone to match.
    edge = max(EDGE, (_half_window(args.num_lrs) + 0.5) / (args.num_lrs - 1)) if args.mode == "range" else EDGE
    # Past the upper edge only if nothing diverged above: a divergence brackets the best rate.
    if position <= edge or (position >= 1 - edge and not any(lr > suggested for lr in diverged)):
        verdict.findings.append(_edge_finding(suggested, position, args))
    return verdict


def _noise(losses: list[float], smoothed: list[float], low: int) -> float:
    """Batch-to-batch noise left in a smoothed point: the spread of the residuals up to the minimum
    (median-based, so the blow-up past it does not count) over sqrt(window)."""
    residuals = [abs(a - b) for a, b in zip(losses[: low + 1], smoothed)]
    return 1.4826 * statistics.median(residuals) / math.sqrt(2 * _half_window(len(losses)) + 1)


def _steepest(lrs: list[float], losses: list[float], low: int) -> int | None:
    """Index of the steepest descent against log10(lr) before the minimum `low`, on windows that
    fit inside the curve (one-sided windows at the ends are the noisiest)."""
    logs = [math.log10(lr) for lr in lrs]
    half = _half_window(len(lrs))
    slopes = {
        i: _line(logs[i - half : i + half + 1], losses[i - half : i + half + 1], logs[i])[1]
        for i in range(half, min(low, len(lrs) - 1 - half) + 1)
    }
    best = min(slopes, key=slopes.get, default=None)
    return best if best is not None and slopes[best] < 0 else None


def _valley(lrs: list[float], losses: list[float], initial: float, low: int) -> float | None:
    """Geometric middle of the descent: from the first rate where the loss has made 10% of its
    total drop to the first where it has made 90%."""
    drop = initial - losses[low]
    if drop <= 0:
        return None
    begin = next(i for i, loss in enumerate(losses) if loss <= initial - 0.1 * drop)
    end = next(i for i, loss in enumerate(losses) if loss <= initial - 0.9 * drop)
    return math.sqrt(lrs[begin] * lrs[end])


def _middle_of_best(lrs: list[float], losses: list[float], initial: float, low: int) -> tuple[float, str]:
    """Grid: short runs saturate (several rates reach ~0 loss) and the lowest of near-equal losses is
    noise, so take the middle of the rates tied with the best, away from both cliffs."""
    tolerance = NEAR_BEST * (initial - losses[low])
    tied = [i for i, loss in enumerate(losses) if loss <= losses[low] + tolerance]
    rule = (
        f"middle of the {len(tied)} rate(s) whose final loss is within {NEAR_BEST:.0%} of the total drop "
        "of the lowest final loss"
    )
    return lrs[tied[(len(tied) - 1) // 2]], rule


def _no_stable_lr(message: str, initial: float | None, diverged: list[float]) -> Verdict:
    return Verdict(
        None,
        "none: no rate trains",
        findings=[
            finding(
                "no_stable_lr",
                ERROR,
                message,
                evidence={"initial_loss": _sig(initial), "diverged_lrs": [_sig(lr, 3) for lr in diverged]},
                suggestion="If the loss never moves, suspect a detached graph or a loss that ignores the model: call "
                "gradient_check and run_overfit_test. If every rate diverges, lower min_lr and call check_initialization.",
            )
        ],
    )


def _edge_finding(lr: float, position: float, args: LrSweepArgs) -> dict:
    upper = position >= 0.5
    bound, wider = ("max_lr", f"max_lr={args.max_lr * 100:g}") if upper else ("min_lr", f"min_lr={args.min_lr / 100:g}")
    return finding(
        "lr_at_range_edge",
        WARNING,
        f"the suggested rate {lr:.3g} sits at the {'upper' if upper else 'lower'} edge of the swept range "
        f"[{args.min_lr:g}, {args.max_lr:g}]: the best rate may lie beyond {bound}",
        where=bound,
        evidence={"suggested_lr": _sig(lr, 3), "min_lr": args.min_lr, "max_lr": args.max_lr, "position": round(position, 3)},
        suggestion=f"Call lr_sweep again with {wider}.",
    )


# ---- from measured losses to a verdict and details, per mode ------------------------------------


def _thin(count: int, limit: int) -> list[int]:
    """At most `limit` evenly spread indices of `count`, first and last kept."""
    if count <= limit:
        return list(range(count))
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def _range_details(args: LrSweepArgs, measured: _Measured) -> tuple[Verdict, LrSweepDetails]:
    stop = next((i for i, v in enumerate(measured.losses) if not _finite(v)), len(measured.losses))
    lrs, raw = measured.lrs[:stop], measured.losses[:stop]
    smoothed = _smooth(lrs, raw)
    # The loss at the start: the mean over the first half-window, steadier than one noisy batch.
    start = raw[: _half_window(len(raw)) + 1]
    initial = statistics.fmean(start) if start else math.nan
    low = min(range(len(smoothed)), key=smoothed.__getitem__) if smoothed else 0
    # Diverged from the first rate past the minimum where the loss climbs back above its start,
    # or from the first NaN/Inf.
    rising = [lrs[i] for i in range(low, len(lrs)) if smoothed[i] > initial]
    non_finite = measured.lrs[stop : stop + 1]
    diverged = (rising or non_finite)[:1]
    verdict = judge(args, lrs, raw, smoothed, initial, diverged)
    keep = _thin(len(measured.lrs), CURVE_POINTS)
    curve = RangeCurve(
        lr=[_sig(measured.lrs[i], 3) for i in keep],
        loss=[_sig(measured.losses[i]) if _finite(measured.losses[i]) else None for i in keep],
        smoothed=[_sig(smoothed[i]) if i < len(smoothed) else None for i in keep],
    )
    return verdict, _details(args, verdict, initial, diverged, curve=curve)


def _grid_point(run: _GridRun) -> GridPoint:
    losses = run.losses
    all_finite = all(_finite(v) for v in losses)
    tail = losses[-max(1, len(losses) // 10) :]
    return GridPoint(
        lr=_sig(run.lr, 3),
        initial_loss=_sig(losses[0]) if losses and _finite(losses[0]) else None,
        final_loss=_sig(sum(tail) / len(tail)) if all_finite and losses else None,
        best_loss=_sig(min((v for v in losses if _finite(v)), default=None)),
        steps_run=len(losses),
        diverged=not all_finite or run.blew_up,
    )


def _grid_details(args: LrSweepArgs, runs: list[_GridRun]) -> tuple[Verdict, LrSweepDetails]:
    runs = sorted(runs, key=lambda run: run.index)
    points = [_grid_point(run) for run in runs]
    initial = runs[0].losses[0] if runs and runs[0].losses and _finite(runs[0].losses[0]) else math.nan
    stable = [(run.lr, point.final_loss) for run, point in zip(runs, points) if not point.diverged]
    diverged = [run.lr for run, point in zip(runs, points) if point.diverged]
    finals = [loss for _, loss in stable]
    verdict = judge(args, [lr for lr, _ in stable], finals, finals, initial, diverged)
    return verdict, _details(args, verdict, initial, diverged, points=points)


def _details(args: LrSweepArgs, verdict: Verdict, initial: float, diverged: list[float], **curve) -> LrSweepDetails:
    return LrSweepDetails(
        mode=args.mode,
        suggested_lr=verdict.suggested_lr,
        rule=verdict.rule,
        alternatives=verdict.alternatives,
        initial_loss=_sig(initial) if _finite(initial) else None,
        lowest_loss=verdict.lowest_loss,
        diverged_from_lr=_sig(min(diverged), 3) if diverged else None,
        **curve,
    )


def _summary(args: LrSweepArgs, verdict: Verdict, details: LrSweepDetails) -> str:
    if verdict.suggested_lr is None:
        return f"No learning rate in [{args.min_lr:g}, {args.max_lr:g}] trains: {verdict.findings[0]['message']}."
    others = ", ".join(f"{name} {lr:.2g}" for name, lr in verdict.alternatives.items() if lr is not None)
    limit = (
        f"the loss diverges from lr {details.diverged_from_lr:.2g}"
        if details.diverged_from_lr is not None
        else f"nothing diverged up to max_lr {args.max_lr:g}"
    )
    summary = f"Suggested lr {verdict.suggested_lr:.2g} ({args.mode} sweep); {limit}. Alternatives: {others}."
    if verdict.findings:
        summary += " " + verdict.findings[0]["suggestion"]
    return summary


# ---- running: one job for a range test, a grid split over the pool's workers --------------------


async def _measure_grid(args: LrSweepArgs, runtime: Runtime, progress: ProgressCallback | None) -> list[_MeasuredResult]:
    """Run the grid's rates in `max_workers` concurrent jobs, interleaved so each gets low and high rates."""
    jobs = min(runtime.pool.max_workers, args.num_lrs)
    results: list[_MeasuredResult | None] = [None] * jobs
    done = [0.0] * jobs
    total = args.num_lrs * args.steps

    async def run_chunk(job: int) -> None:
        async def relay(job_done: float, _: float | None, message: str | None) -> None:
            done[job] = job_done
            if progress is not None:
                await progress(sum(done), total, message)

        chunk = _GridChunkArgs(**args.model_dump(), lr_indices=list(range(job, args.num_lrs, jobs)))
        results[job] = await execute(CHECK, NAME, _MeasuredResult, chunk, runtime, relay)

    async with anyio.create_task_group() as tasks:
        for job in range(jobs):
            tasks.start_soon(run_chunk, job)
    return results


def _merged_run(results: list[_MeasuredResult], started: float) -> RunInfo:
    """The first job's run info, timed over the whole call, with the largest memory peak."""
    run = (results[0].run or RunInfo(duration_s=0)).model_copy()
    run.duration_s = round(time.perf_counter() - started, 3)
    peaks = [r.run.peak_rss_mb for r in results if r.run and r.run.peak_rss_mb is not None]
    run.peak_rss_mb = max(peaks, default=None)
    return run


async def _invoke(args: LrSweepArgs, runtime: Runtime, progress: ProgressCallback | None) -> LrSweepResult:
    started = time.perf_counter()
    if args.mode == "range":
        results = [await execute(CHECK, NAME, _MeasuredResult, args, runtime, progress)]
    else:
        results = await _measure_grid(args, runtime, progress)
    run = _merged_run(results, started)
    failed = [r for r in results if r.status == "error" or r.details is None]
    if failed:
        # The same harness error comes back from every job: report each distinct one once.
        unique = {(f.code, f.where, f.message): f for r in failed for f in r.findings}
        findings = sort_findings(list(unique.values()))
        return LrSweepResult(status=status_of(findings), summary=failed[0].summary, findings=findings, run=run)
    if args.mode == "range":
        verdict, details = _range_details(args, results[0].details)
    else:
        verdict, details = _grid_details(args, [point for r in results for point in r.details.points])
    findings = sort_findings([Finding.model_validate(f) for f in verdict.findings])
    return LrSweepResult(
        status=status_of(findings), summary=_summary(args, verdict, details), findings=findings, details=details, run=run
    )


def _plot(result: LrSweepResult) -> list[tuple[str, bytes]]:
    details = result.details
    if details is None:
        return []
    title = f"lr_sweep ({details.mode}): loss against learning rate"
    if details.curve is not None:
        png = lr_sweep_plot(
            details.curve.lr,
            details.curve.loss,
            smoothed=details.curve.smoothed,
            suggested_lr=details.suggested_lr,
            title=title,
        )
    else:
        stable = [p for p in details.points if not p.diverged]
        png = lr_sweep_plot(
            [p.lr for p in stable],
            [p.final_loss for p in stable],
            suggested_lr=details.suggested_lr,
            diverged_lrs=[p.lr for p in details.points if p.diverged],
            title=title + " (final loss per rate)",
        )
    return [("lr_sweep", png)]


TOOL = Tool(
    name=NAME,
    args=LrSweepArgs,
    result=LrSweepResult,
    description=(
        "Which learning rates train, which diverge, which one to use? mode='range' (default): one run whose rate "
        "grows exponentially from min_lr to max_lr, one step per rate (fast, like lr_find); suggests the steepest "
        "descent of the smoothed loss on a log-lr axis. mode='grid': a short run of `steps` per rate from the same "
        "init, run in parallel workers; suggests the middle of the rates tied for the lowest final loss. Uses the "
        "harness's make_optimizer (default Adam). details: suggested_lr with its rule, alternatives (steepest, "
        "valley, min_over_10, lowest_loss), the curve or every point, diverged rates. Findings: no_stable_lr, "
        "lr_at_range_edge (widen the range). Call after run_overfit_test and gradient_check pass; train with the "
        "suggested lr."
    ),
    invoke=_invoke,
    plot=_plot,
)
