"""The details inspect_model answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from ..wire.details import typed_details


@typed_details
class ModuleRow:
    name: str
    depth: int
    """0 for the model itself, 1 for its children, ..."""
    type: str
    out: str | None = None
    """Output shape(s) of the first call; null: never called."""
    params: int
    """Parameters of this module and its children; a tied tensor counts under every module that uses it, once in
    counts.total."""
    trainable: int | None = None
    """Present only when it differs from params."""
    calls: int | None = None
    """Present only when the module ran more than once."""


@typed_details
class InspectDetails:
    counts: dict[str, int]
    """total (shared tensors once), trainable, frozen, buffers, modules, counted_twice_by_naive_sum (what torchinfo
    would add for tied weights), in_unregistered_modules, in_frozen_copies (target networks, EMA copies: compared
    with the paper's count without them)."""
    expected_param_count: int | None = None
    shape_trace: list[str] = field(default_factory=list)
    """input -> each top-level block's output, in run order."""
    tree: list[ModuleRow] = field(default_factory=list)
    """Modules to tree_depth; all modules are in full_report."""
    tree_depth: int = 1
    top_modules: list[dict[str, Any]] = field(default_factory=list)
    """Largest modules by their own parameters."""
    params_by_type: dict[str, int] = field(default_factory=dict)
    """Own parameters summed per module type."""
    tied: list[dict[str, Any]] = field(default_factory=list)
    """Parameter names sharing one tensor, with its size."""
    unregistered: list[dict[str, Any]] = field(default_factory=list)
    """Plain-container attributes holding modules."""
    dtypes: dict[str, int] = field(default_factory=dict)
    """Parameter count per 'dtype on device'."""
    copies: list[dict[str, Any]] = field(default_factory=list)
    """Frozen copies (target network, EMA, teacher): copy module, the source it mirrors, its parameters, whether the
    harness declared it (frozen_copies) or it was inferred."""
