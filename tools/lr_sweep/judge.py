"""Judging an LR sweep: pure arithmetic on (rate, loss) pairs, no torch, no I/O.

A range test is read for all its evidence: how far the loss fell (did it learn at all?), the
steepest descent on a log-lr axis, where the loss minimum lies, and where it diverged. Which
reading suggests the rate depends on the optimiser's family, measured on the benchmark
problems (docs/benchmarks.md) against the best rate of a fine grid of 200-step runs:

* SGD with momentum: a fifth of the rate where the range test diverged. The ramp outruns the
  momentum buffer, so the loss falls late and its steepest descent can sit 5x either side of
  the best rate; the divergence point is the steadier landmark.
* plain SGD: the steepest descent of the smoothed loss against log10(lr), as fastai's and
  Lightning's finders read it, but fitted over a centred window (no lag) on a log axis,
  searched before the minimum.
* adaptive optimisers (Adam and kin): the geometric middle of that steepest descent and a third
  of the rate of the loss minimum. The descent alone sat 2-10x below the best rate of a
  constant-rate run on transformers and regressors, the minimum/3 alone above it on classifiers.
* a test that saw too little learning is inconclusive, never "no stable rate": a deep or
  saturating net under plain SGD learns too slowly for a 100-step ramp to show, though the
  top of the range trains. Its suggestion is the top of what ran (lr at the end / 2.5), with
  low confidence; auto mode runs a short grid under that top instead. Under momentum the top it
  vouches for is where the loss rose clearly above its start (beyond batch noise), and the guess
  is again 0.4 decade under it, not the 1/5 a test that learned gets: a rise after no visible
  descent is batch noise growing with the rate as often as divergence (a noisy regressor's loss
  rose gently from about 0.1 and trained best at 0.05-0.2; a CNN's jumped at 0.25 and trained best
  at 0.046). auto keeps that guess rather than pay for a grid.
* a classifier (the default cross-entropy and a declared num_classes) has learned only when its
  loss went below ln C, the loss of predicting the class frequencies: a sigmoid net's 3-5 % dip
  from a too-high initial loss down to ln C is its output bias, not the task.

A grid (or the rates of an objective) is judged by the final loss of each run or by the
objective after it: the middle of the rates tied with the best.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from ..wire.compact import finite

# A rate "trains" when it lowers the loss by at least 2.5% of its initial value (and beyond
# batch noise). Measured over 100-step range tests: clean models fell 3.7% (a one-layer
# transformer) to 100%; a model whose output is detached from the task loss fell 1.7%.
MIN_DROP = 0.025
NOISE_SIGMAS = 3.0  # ... and by more than 3 standard errors of a smoothed point
NEAR_BEST = 0.05  # grid: rates whose score is within 5% of the total improvement from the best are tied
MOMENTUM_BELOW_DIVERGENCE = 5.0  # momentum SGD: the best 200-step rate was 2-7x below the range test's divergence
TOP_FRACTION = 2.5  # inconclusive test: the rate 0.4 decade below the highest rate it vouches for
AGREE = 3.0  # two readings within 3x of each other make a suggestion "high" confidence
LEARNING_BEGINS = 0.1  # range: the stable range starts where the loss has made 10% of its drop
TRAINS_WELL = 0.5  # grid: a rate is in the stable range when it makes half the best rate's improvement


@dataclass
class RangeEvidence:
    """What a range test shows, on its finite prefix (ascending rates)."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    initial: float  # mean loss over the first half-window: steadier than one batch
    low: int  # index of the smoothed minimum
    steepest: int | None  # index of the steepest descent before the minimum
    diverged_lr: float | None  # first rate past the minimum above the initial loss, or the first NaN/Inf
    hard_stop_lr: float | None  # the rate at which the run went NaN/Inf or blew up and was stopped
    drop: float  # fraction of |initial| the smoothed loss fell
    noise: float  # standard error of a smoothed point
    chance: float | None = None  # a classifier's loss of predicting the class frequencies (ln C)

    @property
    def start(self) -> float:
        """What the loss must fall below to show learning: the initial loss, or ln C if that is lower."""
        return self.initial if self.chance is None else min(self.initial, self.chance)

    @property
    def learned(self) -> bool:
        fall = self.start - self.smoothed[self.low]
        return fall >= MIN_DROP * abs(self.start) and fall >= NOISE_SIGMAS * self.noise

    @property
    def rose_lr(self) -> float | None:
        """The first rate past the minimum where the smoothed loss stands clearly above its start (beyond
        2.5% and beyond batch noise): the highest rate a momentum test that saw no learning vouches for.
        Merely above the start is no landmark there: a noisy loss that never fell crosses it at random."""
        margin = max(MIN_DROP * abs(self.initial), NOISE_SIGMAS * self.noise)
        after = zip(self.lrs[self.low :], self.smoothed[self.low :])
        return next((lr for lr, loss in after if loss > self.initial + margin), None)

    @property
    def top_lr(self) -> float:
        """The highest rate the test can vouch for: where it blew up, else the last one it ran."""
        return self.hard_stop_lr if self.hard_stop_lr is not None else self.lrs[-1]


@dataclass
class Verdict:
    suggested_lr: float | None
    rule: str
    confidence: str = "low"  # high | medium | low
    alternatives: dict[str, float | None] = field(default_factory=dict)
    lowest_loss: float | None = None
    stable_low: float | None = None
    stable_high: float | None = None
    high_open: bool = False  # nothing diverged above stable_high: the stable range may go on
    inconclusive: str | None = None  # why the sweep could not judge, when it could not
    ceiling: float | None = None  # inconclusive: the highest rate the test vouches for (auto's grid ends there)
    blind: bool = False  # inconclusive, and the guess is only the top of the range: no landmark was read
    noise: float | None = None  # grid: the run-to-run noise the best rate's lead does not clear


def half_window(count: int) -> int:
    """Half-width of the smoothing and slope windows: 10 steps (0.4 decade) of a 100-step range test."""
    return max(1, count // 10)


def _line(xs: list[float], ys: list[float], at: float) -> tuple[float, float]:
    """(value at `at`, slope) of the least-squares line through (xs, ys)."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my + slope * (at - mx), slope


def smooth(lrs: list[float], losses: list[float]) -> list[float]:
    """Each loss replaced by a line fitted over its centred window against log10(lr): no lag, unlike
    an exponential average, and no pull towards the middle at the ends, unlike a moving average."""
    if len(lrs) < 2:
        return list(losses)
    logs, half = [math.log10(lr) for lr in lrs], half_window(len(lrs))
    return [
        _line(logs[max(0, i - half) : i + half + 1], losses[max(0, i - half) : i + half + 1], logs[i])[0]
        for i in range(len(lrs))
    ]


def _noise(losses: list[float], smoothed: list[float], low: int) -> float:
    """Batch-to-batch noise left in a smoothed point: the spread of the residuals up to the minimum
    (median-based, so the blow-up past it does not count) over sqrt(window)."""
    residuals = [abs(a - b) for a, b in zip(losses[: low + 1], smoothed)]
    return 1.4826 * statistics.median(residuals) / math.sqrt(2 * half_window(len(losses)) + 1)


def _steepest(lrs: list[float], losses: list[float], low: int) -> int | None:
    """Index of the steepest descent against log10(lr) before the minimum `low`, on windows that
    fit inside the curve (one-sided windows at the ends are the noisiest)."""
    logs = [math.log10(lr) for lr in lrs]
    half = half_window(len(lrs))
    slopes = {
        i: _line(logs[i - half : i + half + 1], losses[i - half : i + half + 1], logs[i])[1]
        for i in range(half, min(low, len(lrs) - 1 - half) + 1)
    }
    best = min(slopes, key=slopes.get, default=None)
    return best if best is not None and slopes[best] < 0 else None


def range_evidence(
    lrs: list[float], losses: list[float | None], planned: int, chance: float | None = None
) -> RangeEvidence | None:
    """The evidence of a range test of `planned` steps (`chance`: a classifier's ln C); None when its
    very first loss is NaN/Inf."""
    stop = next((i for i, v in enumerate(losses) if not finite(v)), len(losses))
    if stop == 0:
        return None
    kept, raw = lrs[:stop], [float(v) for v in losses[:stop]]
    smoothed = smooth(kept, raw)
    initial = statistics.fmean(raw[: half_window(len(raw)) + 1])
    low = min(range(len(smoothed)), key=smoothed.__getitem__)
    # Stopped early (NaN/Inf, or the worker's blow-up rule): diverged at the rate it stopped on.
    hard = lrs[stop] if stop < len(lrs) else (kept[-1] if len(lrs) < planned else None)
    rising = [kept[i] for i in range(low, len(kept)) if smoothed[i] > initial]
    return RangeEvidence(
        lrs=kept,
        losses=raw,
        smoothed=smoothed,
        initial=initial,
        low=low,
        steepest=_steepest(kept, raw, low),
        diverged_lr=(rising or [hard])[0],
        hard_stop_lr=hard,
        drop=(initial - smoothed[low]) / max(abs(initial), 1e-12),
        noise=_noise(raw, smoothed, low),
        chance=chance,
    )


def _valley(e: RangeEvidence) -> float | None:
    """Geometric middle of the descent: from the first rate where the loss has made 10% of its
    total drop to the first where it has made 90%."""
    fall = e.initial - e.smoothed[e.low]
    if fall <= 0:
        return None
    begin = next(i for i, loss in enumerate(e.smoothed) if loss <= e.initial - 0.1 * fall)
    end = next(i for i, loss in enumerate(e.smoothed) if loss <= e.initial - 0.9 * fall)
    return math.sqrt(e.lrs[begin] * e.lrs[end])


def _readings(e: RangeEvidence) -> dict[str, float | None]:
    """Every classic reading of the curve: the alternatives an agent may prefer."""
    return {
        "steepest": e.lrs[e.steepest] if e.steepest is not None else None,
        "valley": _valley(e),
        "min_over_10": e.lrs[e.low] / 10,
        "min_over_3": e.lrs[e.low] / 3,
        "lowest_loss": e.lrs[e.low],
        "below_divergence": e.diverged_lr / MOMENTUM_BELOW_DIVERGENCE if e.diverged_lr is not None else None,
    }


def _pick(e: RangeEvidence, family: str, readings: dict[str, float | None]) -> tuple[float, str, tuple | None]:
    """(suggestion, rule, two independent readings whose agreement makes it "high" confidence)."""
    steepest, below, third = readings["steepest"], readings["below_divergence"], readings["min_over_3"]
    if family == "momentum" and below is not None:
        rule = (
            f"SGD with momentum: 1/{MOMENTUM_BELOW_DIVERGENCE:g} of the rate where the range test diverged "
            f"({e.diverged_lr:.3g}); the ramp outruns the momentum buffer, so the descent lags"
        )
        return below, rule, (below, third)
    if steepest is None:
        return third, "fallback: the loss had no descent to measure before its minimum; a third of its rate", None
    if family == "adaptive":
        rule = (
            "adaptive optimiser: the geometric middle of the steepest descent of the smoothed loss against "
            "log10(lr) and a third of the rate of its minimum (the descent alone lags a constant-rate run)"
        )
        return math.sqrt(steepest * third), rule, (steepest, third)
    return (
        steepest,
        "SGD: the steepest descent of the smoothed loss against log10(lr), before its minimum",
        (steepest, third),
    )


def _stable_range(e: RangeEvidence) -> tuple[float, float, bool]:
    """Range test: from where the loss has made 10% of its drop to the last rate before it diverged."""
    fall = e.initial - e.smoothed[e.low]
    low = next(lr for lr, loss in zip(e.lrs, e.smoothed) if loss <= e.initial - LEARNING_BEGINS * fall)
    if e.diverged_lr is None:
        return low, e.lrs[-1], True
    below = [lr for lr in e.lrs if lr < e.diverged_lr]
    return low, max(below[-1] if below else low, low), False


def judge_range(e: RangeEvidence, family: str) -> Verdict:
    """Suggest a rate from a range test that saw learning (`e.learned`); see the module's docstring."""
    readings = _readings(e)
    suggested, rule, check = _pick(e, family, readings)
    agree = check is not None and abs(math.log(check[0] / check[1])) <= math.log(AGREE)
    low, high, high_open = _stable_range(e)
    return Verdict(
        suggested_lr=suggested,
        rule=rule,
        confidence="high" if agree else "medium",
        alternatives=readings,
        lowest_loss=e.smoothed[e.low],
        stable_low=low,
        stable_high=high,
        high_open=high_open,
    )


def judge_inconclusive(e: RangeEvidence, why: str, family: str) -> Verdict:
    """A range test that saw too little learning: the best guess is 0.4 decade under the highest rate
    it vouches for: the top of what ran, or under momentum where its loss rose clearly."""
    blind = not (family == "momentum" and e.rose_lr is not None)
    ceiling = e.top_lr if blind else e.rose_lr
    where = "the highest rate it ran without blowing up" if blind else "where its loss rose clearly above the start"
    suggested = ceiling / TOP_FRACTION
    rule = (
        f"inconclusive range test: 1/{TOP_FRACTION:g} of {where} ({ceiling:.3g}), "
        "since nothing below it visibly trained"
    )
    return Verdict(
        suggested_lr=suggested,
        rule=rule,
        confidence="low",
        lowest_loss=e.smoothed[e.low],
        inconclusive=why,  # its other readings (steepest, minimum) are noise: none are reported
        ceiling=ceiling,
        blind=blind,
    )


def too_little_learning(e: RangeEvidence, min_lr: float) -> str:
    fall = e.start - e.smoothed[e.low]
    if e.chance is not None and e.chance < e.initial and e.smoothed[e.low] >= e.chance * (1 - MIN_DROP):
        verdict = f"no lower than ln C = {e.chance:.4g}, the loss of predicting the class frequencies"
    elif fall < NOISE_SIGMAS * e.noise:
        verdict = "within noise"
    else:
        verdict = f"under the {MIN_DROP:.1%} that shows learning"
    return (
        f"the range test lowered the loss only {e.drop:.1%} (from {e.initial:.4g} to {e.smoothed[e.low]:.4g}, "
        f"batch noise ±{e.noise:.2g}) between lr {min_lr:g} and {e.lrs[-1]:.3g}: {verdict}"
    )


@dataclass
class GridScores:
    """A grid, ascending rates: a score per rate where lower is better (the final loss, or the
    objective signed by its mode), None where the run diverged."""

    lrs: list[float]
    scores: list[float | None]
    initial: float  # the score before training


def _isotonic(values: list[float]) -> list[float]:
    """The least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [sum, count]
    for value in values:
        blocks.append([value, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    return [total / count for total, count in blocks for _ in range(int(count))]


def grid_noise(scores: list[float]) -> float | None:
    """Run-to-run noise of a grid's scores (ascending rates): the residual of the best valley-shaped fit
    (falling, then rising), per degree of freedom the fit leaves. A response over log lr is a valley, so
    a clean grid fits it exactly (None: no noise seen); independent noise does not. In simulation, pure
    noise over 8 rates read as a lead within 3 of it 77% of the time, a noisy parabola 1%."""
    fits = []
    for k in range(len(scores)):
        falling = [-v for v in _isotonic([-v for v in scores[: k + 1]])]
        fitted = falling + _isotonic(scores[k:])[1:]
        fits.append((sum((a - b) ** 2 for a, b in zip(scores, fitted)), len({round(v, 12) for v in fitted})))
    residual, levels = min(fits)
    return math.sqrt(residual / (len(scores) - levels)) if residual > 0 and len(scores) > levels else None


def _within_noise(stable: list[tuple[float, float]], best: float) -> float | None:
    """The noise, when the best score leads the typical rate of the grid by less than NOISE_SIGMAS of it."""
    scores = [s for _, s in stable]
    noise = grid_noise(scores)
    if noise is None or statistics.median(scores) - best >= NOISE_SIGMAS * noise:
        return None
    return noise


def judge_grid(grid: GridScores) -> Verdict | None:
    """The middle of the rates tied with the best (short runs saturate: several rates reach ~0 loss,
    and the lowest of near-equal scores is noise). None when no rate improved on the initial score."""
    stable = [(lr, s) for lr, s in zip(grid.lrs, grid.scores) if s is not None]
    if not stable or not finite(grid.initial):
        return None
    best = min(s for _, s in stable)
    gain = grid.initial - best
    if gain < MIN_DROP * max(abs(grid.initial), abs(best), 1e-12):
        return _still_falling_at_the_top(grid)
    trains = [lr for lr, s in stable if grid.initial - s >= TRAINS_WELL * gain]
    tied = [lr for lr, s in stable if s <= best + NEAR_BEST * gain]
    diverged_above = any(s is None and lr > trains[-1] for lr, s in zip(grid.lrs, grid.scores))
    noise = _within_noise(stable, best)
    inside = len(tied) > 1 or 0 < grid.lrs.index(tied[0]) < len(grid.lrs) - 1
    return Verdict(
        suggested_lr=tied[(len(tied) - 1) // 2],
        rule=f"middle of the {len(tied)} rate(s) whose score is within {NEAR_BEST:.0%} of the total improvement "
        "of the best one",
        confidence="low" if noise is not None else "high" if inside else "medium",
        noise=noise,
        lowest_loss=best,
        stable_low=trains[0],
        stable_high=trains[-1],
        high_open=not diverged_above and trains[-1] == grid.lrs[-1],
    )


def _still_falling_at_the_top(grid: GridScores) -> Verdict | None:
    """Too little learning, but the score falls faster and faster up to the highest rate: the range
    is too low (an edge), not a model that cannot train."""
    scores = grid.scores
    if len(scores) < 3 or any(s is None for s in scores):
        return None
    falls = [a - b for a, b in zip(scores, scores[1:])]
    if falls[-1] <= 0 or falls[-1] < max(falls):
        return None
    return Verdict(
        suggested_lr=grid.lrs[-1],
        rule="the loss barely moved, but fell fastest at the highest rate: the best rate lies above the range",
        confidence="low",
        lowest_loss=scores[-1],
    )
