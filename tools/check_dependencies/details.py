"""The details check_dependencies answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from ..wire.details import typed_details


@typed_details
class LeakPair:
    output_index: int
    """Example (batch) or position (causal) whose output leaks."""
    input_index: int
    """Example or later position whose input it must not depend on."""
    relative: float
    """Dependence relative to the largest allowed one (own example, or positions <= t)."""


@typed_details
class AxisResult:
    checked: list[int]
    """Output examples or positions checked (first 64); for cuts, the cut positions."""
    checked_pairs: int
    leaking_pairs: int
    max_relative: float | None = None
    """Largest relative dependence over forbidden pairs; 0 means exact zeros."""
    worst: list[LeakPair] = field(default_factory=list)
    """Worst offending pairs, largest first."""
    affected: list[int] = field(default_factory=list)
    """Output examples or positions that leak."""
    first_module: str | None = None
    """First module whose output carries the leak while its inputs do not."""
    plan: Literal["rows", "cuts", "columns", "screen"]
    """rows: one output index per example's cotangent; cuts: every output up to t against inputs after t; columns: one
    perturbed input index per forward (token ids with no embedding); screen (batch, clean): every example pair at once
    from two backward passes, the per-example rows measured only when it shows a leak."""
    probes: list[int]
    """The rows, cut positions or perturbed columns measured."""
    covered_pairs: int | None = None
    """Causal: (position, later position) pairs the plan rules out."""
    total_pairs: int | None = None
    """Causal: all such pairs, T(T-1)/2."""
    not_ruled_out: str | None = None
    """Which leaks the plan could not see; null when it saw all."""
    pattern: dict[str, Any] | None = None
    """Causal leak: rows measured, leaking and clean rows, fraction seeing every later position, largest reach, bounded
    reach (off by one), fraction still seeing the past."""
    likely_causes: list[str] | None = None
    """Causal leak: cause keys, most likely first by the evidence."""
    attention_calls: list[dict[str, Any]] | None = None
    """Causal leak: distinct softmax-over-(T, T)-scores / scaled_dot_product_attention calls seen: the dim normalised
    and the mask's pattern (causal, none, transposed, off_by_k, other)."""
    encoder: str | None = None
    """Causal leak on a batch that shows an encoder (masked-LM labels, or declared): what shows it. An encoder is meant
    to see both sides."""


@typed_details
class PositionResult:
    per_position: bool
    """True: the outputs after the shuffled prefix were compared; False: the whole output."""
    trials: list[dict[str, Any]]
    """Per shuffle: prefix length, relative change of the outputs after it, and (per position) how far the prefix's
    outputs are from the original ones moved with their tokens; or why it was skipped."""
    tolerance: float
    """Relative change at or below which the outputs count as unchanged (float error)."""
    largest_change: float | None = None
    first_changed_module: str | None = None
    """First module whose output moved after the shuffled prefix."""
    blind_first_layer: str | None = None
    """A first-layer module that stayed blind to order while its later twin moved (causal, no PE)."""


@typed_details
class Cost:
    forward_passes: int
    cotangents: int
    """Output masks backpropagated, one input-only backward each (causal rows and cuts are striped, one per example, so
    a batch of 4 carries 4 in one)."""
    backward_calls: int
    """Backward calls that carried them (a batched call carries many)."""
    batched: bool
    """False when an op had no vmap rule and the masks went one at a time."""
    seconds: float
    """Wall time of the check in the worker, model build included."""


@typed_details
class MechanismResult:
    probe: Literal[
        "condition",
        "bidirectional",
        "padding",
        "supervised_positions",
        "positions",
        "batch_key",
        "bootstrap_target",
        "discount",
    ]
    """condition: an input the model is called with (or a batch condition key) perturbed alone; bidirectional: an
    encoder's first position against its later ones; padding: real outputs against padded inputs; supervised_positions:
    the loss's gradient at ignored labels; positions: an encoder's outputs against its real positions permuted;
    batch_key: the loss with one batch tensor perturbed; bootstrap_target: the loss's gradient through the model's
    output on the next states; discount: the loss with every Q-value shifted by one constant."""
    subject: str
    """What was probed: the argument or batch key, the pad mask, the labels."""
    measured: bool
    relative: float | None = None
    """condition: relative change of the output; bidirectional: dependence on later positions; padding and
    supervised_positions: dependence on what must be ignored; positions: how far the permuted outputs are from the
    outputs permuted (0: equivariant); batch_key: 1 when a torch operation of the loss read that tensor, 0 when none
    did; bootstrap_target: norm of the loss's gradient through that output; discount: the loss's change with every
    Q-value shifted over its change with the states' alone (about 1 - gamma). 0 means exact zeros."""
    note: str | None = None
    """Why nothing was measured."""


@typed_details
class DependencyDetails:
    method: str
    """Gradient w.r.t. the inputs, at an embedding's output, token perturbation, or shuffles."""
    input: int | str | None = None
    """The batch element checked (null: the batch is the input tensor)."""
    input_shape: list[int]
    output_shape: list[int] | None = None
    threshold: float | None = None
    """Relative dependence above which a forbidden pair counts as a leak."""
    batch: AxisResult | None = None
    causal: AxisResult | None = None
    position: PositionResult | None = None
    mechanisms: list[MechanismResult] = field(default_factory=list)
    """Mechanism probes run on the roles the batch shows (batch and both modes)."""
    roles: dict[str, Any] | None = None
    """Batch roles used by the probes: conditions, pad_mask, attention (causal / bidirectional) and how each was
    found."""
    cost: Cost
