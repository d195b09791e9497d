"""The details training answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from ..wire.details import Curve, HistoryPoint, typed_details


@typed_details
class StreamedPoints:
    """The steps trained since the last message."""

    step: list[int] = field(default_factory=list)
    """Step indices; a step's loss is measured before its update."""
    loss: list[float | None] = field(default_factory=list)
    """The loss at those steps; null where NaN/Inf."""
    terms: dict[str, list[float | None]] = field(default_factory=dict)
    """Named terms of the loss / train_step dict at those steps."""
    lr: list[list[float]] = field(default_factory=list)
    """[step, learning rate] at the end of each chunk of steps."""


@typed_details
class SeedProgress:
    """What tools/training/check.py streams while a seed runs (progress `data`)."""

    steps_done: int
    phase: str
    points: StreamedPoints = field(default_factory=StreamedPoints)
    history: list[HistoryPoint] = field(default_factory=list)
    """Evaluations since the last message."""
    findings: list[dict[str, Any]] = field(default_factory=list)
    """Findings known since the last message, as tools/wire/findings.py makes them."""
    objective: dict[str, str] | None = None


@typed_details
class SeedDetails:
    """What tools/training/check.py answers for one seed."""

    seed: int
    steps_run: int
    final_loss: float | None
    best_loss: float | None
    metrics: dict[str, float | None]
    history: list[HistoryPoint]
    curve: Curve
    objective: dict[str, str] | None = None
    data_digest: str | None = None
    """sha256 of the first get_train_batch batches (null on-policy or without get_train_batch): seeds that agree
    share their data."""
