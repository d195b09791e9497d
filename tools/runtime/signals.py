"""A signal's name for a finding's text."""

from __future__ import annotations

import signal


def signal_name(number: int) -> str:
    """SIGKILL for 9; the number itself for one this platform does not name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
