"""Losses that cannot be: below the declared floor, falling without limit, a negative KL.

Shared by every check that trains or evaluates the loss (overfit, lr_sweep, training runs,
initialisation), so the same numbers get the same verdict whichever tool saw them.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from ..wire.findings import ERROR, finding

FLOOR_MARGIN = 0.01  # of max(1, |floor|): float error and a loosely computed floor stay quiet
UNBOUNDED_WINDOW = 0.1  # fraction of the run compared at the end: still falling there means no limit
ABSURD = 100.0  # times the initial scale below zero: no loss of a working model gets there, falling or not
KL_TOLERANCE = 1e-4  # of max(1, |loss|): a Monte Carlo KL may dip just below zero, an analytic one never


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def below_floor(losses: list[float], floor: float | None, where: str) -> dict[str, Any] | None:
    """loss_below_floor when the lowest loss is under the harness's declared loss_floor."""
    finite = _finite(losses)
    if floor is None or not finite:
        return None
    lowest = min(finite)
    if lowest >= floor - FLOOR_MARGIN * max(1.0, abs(floor)):
        return None
    step = losses.index(lowest)
    return finding(
        "loss_below_floor",
        ERROR,
        f"loss reached {lowest:.4g} at step {step}, below the declared loss_floor {floor:.4g} ({where})",
        where=where,
        evidence={"lowest": lowest, "step": step, "floor": floor},
        suggestion="A loss under what a perfect model reaches is a bug: a sign error (KL subtracted), a missing "
        "term, targets leaking into the inputs, or a wrong loss_floor. Check each term with check_known_values.",
    )


def unbounded(losses: list[float], where: str) -> dict[str, Any] | None:
    """loss_unbounded when the loss went far below zero and is still falling at the end of the run,
    or went absurdly far below it (an optimiser whose moments overflowed stops moving there).

    Callers skip it for surrogate losses (on-policy RL), whose value is not bounded on a fixed batch."""
    finite = _finite(losses)
    window = max(2, int(len(finite) * UNBOUNDED_WINDOW))
    if len(finite) < 4 * window:
        return None
    initial, last = finite[0], statistics.fmean(finite[-window:])
    before = statistics.fmean(finite[-2 * window : -window])
    scale = max(abs(initial), 1.0)
    falling = last < before - 0.01 * scale
    if not (last < -scale and (falling or last < -ABSURD * scale)):
        return None
    how = (
        f"still falling ({before:.4g} -> {last:.4g} over the last {2 * window} steps)" if falling else "far below zero"
    )
    return finding(
        "loss_unbounded",
        ERROR,
        f"loss fell from {initial:.4g} to {last:.4g}, {how}: it has no lower limit ({where})",
        where=where,
        evidence={"initial": initial, "last": last, "before": before, "steps": len(losses)},
        suggestion="A loss that can be driven to minus infinity is optimising the wrong thing: look for a flipped "
        "sign (a KL or log-likelihood term subtracted, gradient ascent on a loss). Declare loss_floor in the harness "
        "(e.g. 0 for a negative log-likelihood) so every tool checks against it.",
    )


def negative_kl(terms: dict[str, list[float]], losses: list[float], where: str) -> list[dict[str, Any]]:
    """negative_kl for each term named kl... whose values are mostly below zero."""
    scale = max(1.0, statistics.median([abs(v) for v in _finite(losses)] or [1.0]))
    found = []
    for name, values in terms.items():
        finite = _finite(values)
        if not name.lower().startswith("kl") or not finite:
            continue
        negative = [v for v in finite if v < -KL_TOLERANCE * scale]
        if len(negative) * 2 <= len(finite):
            continue
        found.append(
            finding(
                "negative_kl",
                ERROR,
                f"loss term {name!r} is negative ({min(negative):.4g} at worst, {len(negative)} of {len(finite)} "
                f"value(s)); a KL divergence never is ({where})",
                where=name,
                evidence={"term": name, "min": min(negative), "negative": len(negative), "values": len(finite)},
                suggestion="Check the KL's sign and formula: for N(mu, sigma^2) against N(0, 1) it is "
                "0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2) >= 0; sigma = exp(0.5 * logvar), not logvar.",
            )
        )
    return found
