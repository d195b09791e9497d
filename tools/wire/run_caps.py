"""How much of a training run is recorded: metric names per evaluation and loss-term names per step.

Each name becomes a key in every evaluation of the run record and a TensorBoard tag, so a harness
that returns thousands of them (4,000 metrics x 41 evaluations) would write a record larger than
the server reads back, losing a completed run. The first names seen are kept (the objective's
metric always), the rest dropped from the record and the events, and one finding names them.
"""

from __future__ import annotations

from typing import Any

from .findings import WARNING, finding

MAX_METRICS = 50  # names per evaluate() result kept in the record and the events
MAX_TERMS = 50  # named loss terms per step kept as TensorBoard tags
NAMES_SHOWN = 10  # dropped names quoted in the finding


class NameCap:
    """The names kept so far for one kind of value (metrics, terms), and those dropped."""

    def __init__(self, what: str, cap: int, always: str | None = None):
        self.what, self.cap, self.always = what, cap, always
        self.kept: set[str] = set()
        self.dropped: dict[str, None] = {}  # ordered set

    def apply(self, values: dict[str, Any]) -> dict[str, Any]:
        """`values` without the names beyond the cap (names kept earlier stay kept)."""
        for name in values:
            if name not in self.kept and (len(self.kept) < self.cap or name == self.always):
                self.kept.add(name)
        self.dropped.update((name, None) for name in values if name not in self.kept)
        return {name: value for name, value in values.items() if name in self.kept}

    def finding(self, seed: int) -> dict[str, Any] | None:
        if not self.dropped:
            return None
        names = list(self.dropped)
        shown = ", ".join(repr(n[:60]) for n in names[:NAMES_SHOWN]) + (
            f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
        )
        return finding(
            "record_capped",
            WARNING,
            f"seed {seed}: {len(self.kept) + len(names)} {self.what} names, over the {self.cap} a run records: "
            f"kept the first {len(self.kept)}, dropped {len(names)} "
            f"from the record and the TensorBoard events ({shown})",
            where=self.what,
            evidence={"kept": len(self.kept), "dropped": len(names), "cap": self.cap},
            suggestion=f"Return at most {self.cap} {self.what}, the ones the paper reports; log the rest yourself.",
        )
