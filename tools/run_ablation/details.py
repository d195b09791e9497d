"""The details run_ablation answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from ..wire.details import Curve, typed_details


@typed_details
class VariantResult:
    name: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    """What this variant changes over the baseline."""
    params: int | None = None
    """Parameter count of the built model."""
    seeds: list[int] = field(default_factory=list)
    initial_loss: float | None = None
    """First seed's first step."""
    final_loss: float | None = None
    """Mean over seeds of the loss over the last 10 steps; null if NaN/Inf."""
    best_loss: float | None = None
    values: list[float] = field(default_factory=list)
    """The ranked quantity (rank_by) per seed."""
    mean: float | None = None
    """Mean of values over seeds: what the ranking sorts."""
    std: float | None = None
    """Sample std of values over seeds; null with one seed."""
    delta_vs_baseline: float | None = None
    """mean minus the baseline's mean, in rank_by's units."""
    within_noise: bool | None = None
    """|delta| within 2 standard errors of the seeds' spread: not a real difference. Null with one seed."""
    final_loss_delta: float | None = None
    """final_loss minus the baseline's."""
    metrics: dict[str, float] = field(default_factory=dict)
    """evaluate() metrics, mean over seeds (metric ranking)."""
    terms: list[str] = field(default_factory=list)
    """Named terms of the loss / train_step dict."""
    adds_up: bool | None = None
    """Whether the final loss is the sum of its named terms (first seed); null without terms."""
    rank: int | None = None
    """1 = best by rank_by; null when the variant failed."""
    steps_run: int | None = None
    non_finite_at_step: int | None = None
    curve: Curve | None = None
    """First seed's training loss."""
    error: str | None = None
    """Set when build_model or training raised for this variant."""
    restates_baseline: bool = False
    """Its keywords restate the baseline's ({"full": {}}): the baseline's runs, not trained again."""


@typed_details
class AblationDetails:
    rank_by: str = "loss"
    """What the ranking sorts: the loss or an evaluate() metric."""
    mode: str = "min"
    """min: lower is better; max: higher is better."""
    seeds: list[int] = field(default_factory=list)
    ranking: list[str]
    """Variant names, best first (failed variants left out)."""
    variants: list[VariantResult]
    """The baseline first, then the variants in the order given."""


@typed_details
class TrainedRun:
    """One (variant, seed) pair trained by a job of a fanned-out ablation, raw, for the job that judges them all."""

    variant: str
    seed: int
    params: int | None = None
    """Parameter count of the built model."""
    losses: list[float | None] = field(default_factory=list)
    """The loss at every step; null where NaN/Inf."""
    terms: dict[str, list[float | None]] = field(default_factory=dict)
    """Named terms of the loss / train_step dict at every step."""
    metrics: dict[str, float | None] = field(default_factory=dict)
    """evaluate() metrics at the end (metric ranking only)."""
    error: str | None = None
    """Set when build_model or training raised."""
    finding: dict[str, Any] | None = None
    """The finding that says why it raised."""


@typed_details
class TrainedRuns:
    runs: list[TrainedRun]
