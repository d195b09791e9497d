"""The details gradient_check answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from ..wire.details import FunctionKind, typed_details


@typed_details
class ModuleGradient:
    module: str
    """Module name (<model> for parameters of the root module)."""
    depth: int | None
    """Order in which the forward pass first entered it; null if never."""
    params: int
    """Trainable elements owned directly by this module."""
    grad_norm: float | None
    """L2 norm over its parameters' gradients; null if any is None/NaN."""
    param_norm: float | None
    ratio: float | None
    """grad_norm / param_norm."""
    state: Literal["ok", "no_grad", "zero", "non_finite"]
    """Worst state of its parameters."""


@typed_details
class ParamNorms:
    name: str
    grad_norm: float | None
    param_norm: float | None
    ratio: float | None


@typed_details
class Trend:
    first_module: str
    first_grad_norm: float
    last_module: str
    last_grad_norm: float
    first_last_ratio: float
    """Input-side over output-side gradient norm along one chain of layers; ~1 is healthy. Tied (shared) tensors
    and embeddings are left out; towers and heads of several layers are chains of their own."""
    max_grad_norm: float
    max_module: str


@typed_details
class ModelGradients:
    loss: float | None
    """Loss of the batch; null when NaN/Inf."""
    counts: dict[str, int]
    """Parameter tensors by state: ok, no_grad, zero, non_finite."""
    trend: Trend | None = None
    modules: list[ModuleGradient]
    """Per-module aggregates by depth (evenly sampled past 30)."""
    modules_total: int | None = None
    largest_grads: list[ParamNorms] = field(default_factory=list)
    smallest_grads: list[ParamNorms] = field(default_factory=list)
    term_reach: dict[str, int] | None = None
    """Loss dicts: per named term, how many parameter tensors it sends a non-zero gradient to."""


@typed_details
class InputError:
    input: str
    """input[i] for the i-th argument, or a parameter name of an nn.Module."""
    shape: list[int]
    max_abs_error: float | None
    max_rel_error: float | None
    mismatched: int
    """Jacobian entries outside atol + rtol * |numerical|."""
    detached: bool = False
    """Every mismatched entry has an analytic gradient of exactly 0: the input is detached or computed under no_grad
    inside the function."""


@typed_details
class NumericalResult:
    function: str
    kind: FunctionKind
    passed: bool
    max_abs_error: float | None
    max_rel_error: float | None
    eps: float
    atol: float
    rtol: float
    inputs: list[InputError]
    worst: dict[str, float | int | str | None]
    """The Jacobian entry with the largest error."""


@typed_details
class GradientDetails:
    model: ModelGradients | None = None
    """Model mode: one forward/backward pass."""
    numerical: NumericalResult | None = None
    """Numerical mode: the function against finite differences."""
