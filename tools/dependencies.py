"""check_dependencies: does example i's output depend on example j? does position t see
positions after t? The work happens in tools/worker/dependencies.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .envelope import ToolResult
from .harness_tool import HarnessArgs, harness_tool


class DependencyArgs(HarnessArgs):
    mode: Literal["batch", "causal", "both"] = Field(
        "batch", description="batch: examples must not see each other; causal: position t must not see inputs after t."
    )
    seq_dim: int = Field(
        1, ge=1, le=8, description="Dimension of the input and the output that indexes positions (dim 0 is the batch)."
    )
    batch_size: int = Field(
        4, ge=2, le=64, description="Examples in the checked batch; every one is checked (one backward pass each)."
    )
    max_positions: int = Field(
        64, ge=1, le=1024, description="Causal mode checks at most this many positions, evenly spread (one backward pass each)."
    )


class LeakPair(BaseModel):
    output_index: int = Field(description="Example (batch) or position (causal) whose output leaks.")
    input_index: int = Field(description="Example or later position whose input it must not depend on.")
    relative: float = Field(description="Dependence relative to the largest allowed one (own example, or positions <= t).")


class AxisResult(BaseModel):
    checked: list[int] = Field(description="Output examples or positions checked (first 64).")
    checked_pairs: int
    leaking_pairs: int
    max_relative: float | None = Field(None, description="Largest relative dependence over forbidden pairs; 0 means exact zeros.")
    worst: list[LeakPair] = Field(default_factory=list, description="Worst offending pairs, largest first.")
    affected: list[int] = Field(default_factory=list, description="Output examples or positions that leak.")
    first_module: str | None = Field(None, description="First module whose output carries the leak while its inputs do not.")


class DependencyDetails(BaseModel):
    method: str = Field(description="Gradient w.r.t. the inputs, at an embedding's output, or token perturbation.")
    input_shape: list[int]
    output_shape: list[int]
    threshold: float = Field(description="Relative dependence above which a forbidden pair counts as a leak.")
    batch: AxisResult | None = None
    causal: AxisResult | None = None


class DependencyResult(ToolResult[DependencyDetails]):
    pass


TOOL = harness_tool(
    name="check_dependencies",
    check="dependencies",
    args=DependencyArgs,
    result=DependencyResult,
    description=(
        "Does example i's output depend on example j's input (mode='batch'), or the output at position t on "
        "inputs after t (mode='causal', along seq_dim; 'both' runs both)? Backpropagates each example's / "
        "position's output to the inputs with the model in eval mode (BatchNorm's training-time coupling is not "
        "flagged), checks every example, and names the first module where a leak appears. Token-id inputs are "
        "differentiated at the embedding output, or perturbed when no nn.Embedding reads them. "
        "Findings: batch_dependence, future_leakage (with the worst (output, input) pairs). Use it on any "
        "attention or normalisation code, and when the training loss falls suspiciously fast; after fixing, "
        "call it again, then run_overfit_test."
    ),
)
