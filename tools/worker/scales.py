"""One definition of inputs that are not standardised, for inspect_data and check_initialization."""

from __future__ import annotations

LARGE_SCALE = 10.0  # |mean| or std of the inputs above this: raw units (0-255 pixels), not standardised
SMALL_STD = 0.01  # std below this with every |x| below SMALL_MAX: the signal was scaled away (/255 twice)
SMALL_MAX = 0.1


def scale_problem(mean: float, std: float, low: float, high: float) -> str | None:
    """ "large" for raw units (0-255 pixels), "tiny" for a signal scaled away, None when fine.

    The one definition of unnormalized inputs, shared with check_initialization."""
    if abs(mean) > LARGE_SCALE or std > LARGE_SCALE:
        return "large"
    if std < SMALL_STD and max(abs(low), abs(high)) < SMALL_MAX:
        return "tiny"
    return None
