"""Verdicts on a training run's numbers: the loss trace and the evaluation history.

Pure functions over lists (no torch), so the worker judges a run as it goes and at its
end, and unit tests can feed them made-up curves. The model-side checks (train/eval
gap, BatchNorm buffers) live in mode_checks.py.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from ..wire.findings import ERROR, finding

WINDOW = 0.1  # fraction of the run averaged at its start and its end: single noisy steps decide nothing
MIN_STEPS = 50  # a shorter run says too little about whether the loss moves
NOT_DECREASING = 0.01  # the best windowed loss must fall at least this fraction below the initial one
DIVERGED_FACTOR = 3.0  # the final windowed loss this many times the initial one: the run blew up
IMPROVE_MARGIN = 0.01  # of |first value|: the objective must move at least this much the right way
WRONG_WAY = 0.1  # of |first value|: a fall this large is "the wrong way", a smaller one mere noise
WRONG_WAY_LIVE = 0.2  # mid-run, only a clear fall (20 % of |first|, twice running) is reported


def _windowed(losses: list[float]) -> list[float]:
    """Means of consecutive windows of WINDOW * len(losses) steps (NaN steps left out)."""
    width = max(1, int(len(losses) * WINDOW))
    means = []
    for start in range(0, len(losses) - width + 1, width):
        chunk = [v for v in losses[start : start + width] if math.isfinite(v)]
        if chunk:
            means.append(statistics.fmean(chunk))
    return means


def loss_trend(losses: list[float], seed: int) -> dict[str, Any] | None:
    """diverged (the loss ended far above where it began) or loss_not_decreasing (it never left it)."""
    means = _windowed(losses)
    if len(losses) < MIN_STEPS or len(means) < 2 or means[0] <= 0:
        return None  # losses that can be negative (ELBO bounds, surrogates) have no scale to judge here
    initial, final, best = means[0], means[-1], min(means)
    where = f"seed {seed}"
    evidence = {
        "initial": initial,
        "final": final,
        "best": best,
        "steps": len(losses),
        "window": len(losses) // len(means),
    }
    if final > DIVERGED_FACTOR * initial:
        return finding(
            "diverged",
            ERROR,
            f"loss rose from {initial:.4g} to {final:.4g} over {len(losses)} steps ({where}; means over "
            f"{evidence['window']}-step windows)",
            where=where,
            evidence=evidence,
            suggestion="Lower lr and call lr_sweep to find a stable one; with a warmup schedule check make_scheduler; "
            "if every lr diverges, check that train_step calls optimizer.zero_grad() each step.",
        )
    if best > initial * (1 - NOT_DECREASING):
        return finding(
            "loss_not_decreasing",
            ERROR,
            f"loss stayed at its initial value: {initial:.4g} at the start, best {best:.4g}, {final:.4g} at the end "
            f"of {len(losses)} steps ({where})",
            where=where,
            evidence=evidence,
            suggestion="The parameters do not learn: an lr far too small, a detached graph or loss under no_grad, "
            "optimizer.step() never called. Call run_overfit_test and gradient_check.",
        )
    return None


def _values(history: list[dict[str, Any]], metric: str) -> list[tuple[int, float]]:
    return [
        (point["step"], point["metrics"][metric])
        for point in history
        if isinstance(point["metrics"].get(metric), (int, float)) and math.isfinite(point["metrics"][metric])
    ]


def objective_verdict(
    history: list[dict[str, Any]], objective: dict[str, str] | None, seed: int, *, final: bool
) -> dict[str, Any] | None:
    """objective_not_improving: the monitored metric did not improve from the first evaluation to the last.

    Mid-run (`final=False`) only a clear fall is reported, twice in a row: an objective may stay
    flat for a while before it takes off, but one that keeps moving the wrong way is a bug."""
    if objective is None:
        return None
    metric, mode = objective["monitor"], objective["mode"]
    points = _values(history, metric)
    if len(points) < (2 if final else 3):
        return None
    sign = 1.0 if mode == "max" else -1.0
    (first_step, first), (last_step, last) = points[0], points[-1]
    scale = max(abs(first), 1e-12)
    gains = [sign * (value - first) for _, value in points[-2:]]
    if final and gains[-1] > IMPROVE_MARGIN * scale:
        return None
    if not final and not all(g < -WRONG_WAY_LIVE * scale for g in gains):
        return None
    best_step, best = max(points, key=lambda p: sign * p[1])
    moved = "moved the wrong way" if gains[-1] < -WRONG_WAY * scale else "did not improve"
    return finding(
        "objective_not_improving",
        ERROR,
        f"objective {metric} ({mode}) {moved}: {first:.4g} at step {first_step}, {last:.4g} at step {last_step} "
        f"(best {best:.4g} at step {best_step}; seed {seed})",
        where=f"seed {seed}",
        evidence={
            "metric": metric,
            "mode": mode,
            "first": first,
            "last": last,
            "best": best,
            "best_step": best_step,
            "evaluations": len(points),
            "final": final,
        },
        suggestion="The training signal points the wrong way or nowhere: a flipped policy-gradient or loss sign, "
        "log-probabilities of the wrong actions, returns discounted forward in time, a target that does not match "
        "the output, or an lr far off (lr_sweep). Test each piece with check_known_values on a hand-worked case.",
    )


def non_finite_metrics(history: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """non_finite_metric for each metric the latest evaluation of `history` ({"step", "metrics"} points)
    returned as NaN or Inf, naming the first step it was non-finite (a metric NaN since step 0 is not news
    of step 600)."""
    latest = history[-1]
    found = []
    for name, value in latest["metrics"].items():
        if math.isfinite(value):
            continue
        first = next(p["step"] for p in history if not math.isfinite(p["metrics"].get(name, 0.0)))
        since = (
            f"at step {first}"
            if first == latest["step"]
            else f"from step {first} on (still {value} at step {latest['step']})"
        )
        found.append(
            finding(
                "non_finite_metric",
                ERROR,
                f"evaluate returned {value} for {name!r} {since} (seed {seed}); the run carries on",
                where=name,
                evidence={
                    "metric": name,
                    "value": str(value),
                    "step": first,
                    "latest_step": latest["step"],
                    "seed": seed,
                },
                suggestion="A metric computed from a NaN/Inf output (the model diverged: check the loss curve), a "
                "division by zero or a log(0) in evaluate (an empty split, a zero count).",
            )
        )
    return found
