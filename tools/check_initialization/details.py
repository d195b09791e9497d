"""The details check_initialization answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from ..wire.details import typed_details


@typed_details
class ActivationRow:
    where: str
    """Module running the activation; 'module:fn' for a functional call in its forward."""
    fn: str
    shape: list[int]
    pre_std: float | None = None
    """Std of the pre-activations."""
    mean: float | None = None
    std: float | None = None
    dead_fraction: float | None = None
    """ReLU-like: units never active over the batch."""
    saturated_fraction: float | None = None
    """tanh/sigmoid-like: pre-activations in the flat part."""


@typed_details
class LayerRow:
    layer: str
    type: str
    signal: float | None = None
    """Per-unit std over the batch of the layer's output."""
    mean: float | None = None


@typed_details
class WeightRow:
    layer: str
    shape: list[int]
    fan_in: int
    fan_out: int
    std: float | None
    kaiming_std: float
    """sqrt(2/fan_in): kaiming_normal_ for ReLU."""
    xavier_std: float
    """sqrt(2/(fan_in+fan_out)): xavier, gain 1."""
    default_std: float
    """1/sqrt(3 fan_in): PyTorch's default for Linear/Conv."""
    matches: list[str]
    """Schemes within 15 % of the std; empty: none of them."""


@typed_details
class AttentionRow:
    where: str
    """Module running the attention call."""
    kind: str
    """softmax, scaled_dot_product_attention or MultiheadAttention."""
    shape: list[int]
    """Shape of the attention weights, e.g. (B, heads, T, S)."""
    rows: int
    """Rows with at least three keys to attend to: the ones judged."""
    rows_with_one_key: int
    """Rows a mask leaves one key (a causal first row): one-hot by construction."""
    rows_with_two_keys: int
    """Rows a mask leaves two keys: their largest weight is at least 1/2 whatever the scale, left out too."""
    keys: int
    """Most keys any row may attend to."""
    mean_max_prob: float | None
    """Mean over rows of the largest weight: ~1/keys healthy, ~1 one-hot; null when no row has three keys."""
    mean_entropy_ratio: float | None
    """Mean over rows of entropy / ln(keys): ~1 healthy, ~0 one-hot; null when no row has three keys."""
    one_hot_fraction: float | None
    """Rows whose largest weight is above 0.9; null when no row has three keys."""


@typed_details
class InitDetails:
    init_loss: float | None = None
    terms: dict[str, float] = field(default_factory=dict)
    """The other named terms of a loss dict at init."""
    expected_loss: float | None = None
    expected_from: str | None = None
    """Where the expected loss comes from, or why there is none."""
    ratio: float | None = None
    """init_loss / expected_loss."""
    tolerance: float | None = None
    inputs: dict[str, Any] | None = None
    """Mean, std, min, max of the float inputs."""
    activations: list[ActivationRow] = field(default_factory=list)
    """In forward order; sampled when many."""
    layers: list[LayerRow] = field(default_factory=list)
    """Linear/Conv outputs in forward order."""
    attention: list[AttentionRow] = field(default_factory=list)
    """Attention calls in forward order."""
    trend: dict[str, Any] | None = None
    """Signal of the last Linear/Conv over the input's."""
    weights: list[WeightRow] = field(default_factory=list)
    init_schemes: dict[str, int] = field(default_factory=dict)
    """Layers matching each init scheme."""
    rows_total: dict[str, int] = field(default_factory=dict)
    """Rows before sampling; all are in the report."""
