"""Making numbers and lists small enough for a result: significant-digit rounding and even sampling.

Both sides use them (the worker on what it measured, the server on what it computes), so they live
here, standard library only.
"""

from __future__ import annotations

import math


def significant(value: float | None, digits: int = 4) -> float | None:
    """`value` to `digits` significant digits (0.05, not 0.04999999999999999); None for None, NaN and Inf,
    which JSON cannot carry."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def evenly_spaced(count: int, limit: int) -> list[int]:
    """At most `limit` indices of a sequence of `count` items, evenly spread, the first and last always kept."""
    if count <= limit:
        return list(range(count))
    if limit < 2:
        return [0][:limit]
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})
