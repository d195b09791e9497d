"""Making numbers and lists small enough for a result: significant-digit rounding and even sampling.

Both sides use them (the worker on what it measured, the server on what it computes), so they live
here, standard library only.
"""

from __future__ import annotations

import math
from typing import SupportsFloat


def significant(value: SupportsFloat | None, digits: int = 4) -> float | None:
    """`value` to `digits` significant digits: 0.05, not 0.04999999999999999, and half the JSON of a full
    float. None stays None; NaN and Inf stay themselves (on the wire they become null: protocol.finite_or_none)."""
    return None if value is None else float(f"{float(value):.{digits}g}")


def evenly_spaced(count: int, limit: int) -> list[int]:
    """At most `limit` indices of a sequence of `count` items, evenly spread, the first and last always kept."""
    if count <= limit:
        return list(range(count))
    if limit < 2:
        return [0][:limit]
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def finite(value: float | None) -> bool:
    """A number, neither None nor NaN nor infinite (one definition for the server and the worker)."""
    return value is not None and math.isfinite(value)
