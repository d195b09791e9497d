"""The details lr_sweep answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from ..wire.details import typed_details


@typed_details
class OptimizerInfo:
    name: str
    """Class of the optimiser make_optimizer returned, e.g. SGD, AdamW."""
    family: Literal["sgd", "momentum", "adaptive"]
    """sgd: plain; momentum: SGD-like with momentum > 0; adaptive: Adam and kin. Decides the rule."""
    momentum: float = 0.0


@typed_details
class HarnessTraits:
    """What decides how a sweep can judge the harness."""

    on_policy: bool = False
    """get_train_batch takes the model, or the harness declares an adversarial game: the loss is a surrogate
    whose value says nothing of a rate."""
    scheduler: bool = False
    """The harness defines make_scheduler: a range test, which sets the rate each step, cannot sweep under it."""
    objective: dict[str, str] | None = None
    """The harness's objective ({monitor, mode}), when it declares one: what a grid is judged on."""
    chance_loss: float | None = None
    """ln(num_classes) for the default cross-entropy: the loss of predicting balanced class frequencies; a
    range test that never goes below it learned the output bias, not the task."""


@typed_details
class GridRun:
    """One rate of a grid: a short run from the seeded init."""

    index: int
    """Position of the rate in the whole grid (a job of a split grid runs some of them)."""
    lr: float
    losses: list[float | None]
    """The loss at every step; null where NaN/Inf."""
    blew_up: bool
    """The run ended with its recent loss far above the initial (the worker's early-stop rule)."""
    metrics: dict[str, float | None] = field(default_factory=dict)
    """evaluate() after the run: a harness with an objective whose losses stayed finite."""


@typed_details
class LrMeasurements:
    """What one lr_sweep job measured: a range test, or some rates of a grid (also streamed as each rate ends)."""

    lrs: list[float] = field(default_factory=list)
    """range: the rate of each step that ran."""
    losses: list[float | None] = field(default_factory=list)
    """range: the loss of each step; null where NaN/Inf."""
    points: list[GridRun] = field(default_factory=list)
    """grid: the rates this job ran, in the order it ran them."""
    initial_metrics: dict[str, float | None] = field(default_factory=dict)
    """grid with an objective: evaluate() before training, what a rate must improve on."""
    optimizer: OptimizerInfo | None = None
    """Null when no step ran (a range test skipped for the harness's traits)."""
    traits: HarnessTraits
