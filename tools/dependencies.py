"""check_dependencies: does example i's output depend on example j? does position t see
positions after t? The work happens in tools/worker/dependencies.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .envelope import ToolResult
from .harness_tool import HarnessArgs, harness_tool


class DependencyArgs(HarnessArgs):
    mode: Literal["batch", "causal", "both", "position"] = Field(
        "batch",
        description="batch: examples must not see each other; causal: position t must not see inputs after t; "
        "both: batch and causal; position: shuffling input positions must change the outputs (a positional "
        "encoding reaches the model).",
    )
    input: int | str | None = Field(
        None,
        description="Which element of the batch is the input to differentiate or perturb: an index of a tuple/list "
        "batch or a key of a dict batch (e.g. 'tgt' for an encoder-decoder's decoder tokens). Default: batch[0], or "
        "the 'inputs'/'input'/'x' key. The model is called through the harness's forward(model, batch) when it has one.",
    )
    seq_dim: int = Field(
        1, ge=1, le=8, description="Dimension of the input and the output that indexes positions (dim 0 is the batch)."
    )
    batch_size: int = Field(
        4, ge=2, le=64, description="Examples in the checked batch; every one is checked (batch mode: two backward passes "
        "for up to 24 examples, one per example beyond, or when a leak shows)."
    )
    max_positions: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="Causal mode: measure this many output positions, evenly spread, each against every later input "
        "(one input-only backward each, batched); T-1 or more checks every position. Default: 4 cuts (every output "
        "up to t against every input after t), a few backward passes whatever T is.",
    )
    exhaustive: bool = Field(
        False, description="Causal mode: check every position (same as max_positions=T-1); the result reports the cost."
    )


class LeakPair(BaseModel):
    output_index: int = Field(description="Example (batch) or position (causal) whose output leaks.")
    input_index: int = Field(description="Example or later position whose input it must not depend on.")
    relative: float = Field(description="Dependence relative to the largest allowed one (own example, or positions <= t).")


class AxisResult(BaseModel):
    checked: list[int] = Field(description="Output examples or positions checked (first 64); for cuts, the cut positions.")
    checked_pairs: int
    leaking_pairs: int
    max_relative: float | None = Field(None, description="Largest relative dependence over forbidden pairs; 0 means exact zeros.")
    worst: list[LeakPair] = Field(default_factory=list, description="Worst offending pairs, largest first.")
    affected: list[int] = Field(default_factory=list, description="Output examples or positions that leak.")
    first_module: str | None = Field(None, description="First module whose output carries the leak while its inputs do not.")
    plan: Literal["rows", "cuts", "columns", "screen"] = Field(
        description="rows: one output index per example's cotangent; cuts: every output up to t against inputs after t; "
        "columns: one perturbed input index per forward (token ids with no embedding); screen (batch, clean): every "
        "example pair at once from two backward passes, the per-example rows measured only when it shows a leak."
    )
    probes: list[int] = Field(description="The rows, cut positions or perturbed columns measured.")
    covered_pairs: int | None = Field(None, description="Causal: (position, later position) pairs the plan rules out.")
    total_pairs: int | None = Field(None, description="Causal: all such pairs, T(T-1)/2.")
    not_ruled_out: str | None = Field(None, description="Which leaks the plan could not see; null when it saw all.")
    pattern: dict[str, Any] | None = Field(
        None, description="Causal leak: rows measured, leaking and clean rows, fraction seeing every later position, "
        "largest reach, bounded reach (off by one), fraction still seeing the past."
    )
    likely_causes: list[str] | None = Field(None, description="Causal leak: cause keys, most likely first by the evidence.")
    attention_calls: list[dict[str, Any]] | None = Field(
        None, description="Causal leak: distinct softmax-over-(T, T)-scores / scaled_dot_product_attention calls seen: "
        "the dim normalised and the mask's pattern (causal, none, transposed, off_by_k, other)."
    )


class PositionResult(BaseModel):
    per_position: bool = Field(description="True: the outputs after the shuffled prefix were compared; False: the whole output.")
    trials: list[dict[str, Any]] = Field(
        description="Per shuffle: prefix length, relative change of the outputs after it, and (per position) how far the "
        "prefix's outputs are from the original ones moved with their tokens; or why it was skipped."
    )
    tolerance: float = Field(description="Relative change at or below which the outputs count as unchanged (float error).")
    largest_change: float | None = None
    first_changed_module: str | None = Field(None, description="First module whose output moved after the shuffled prefix.")
    blind_first_layer: str | None = Field(
        None, description="A first-layer module that stayed blind to order while its later twin moved (causal, no PE)."
    )


class Cost(BaseModel):
    forward_passes: int
    cotangents: int = Field(description="Output masks backpropagated, one input-only backward each (causal rows and "
                            "cuts are striped, one per example, so a batch of 4 carries 4 in one).")
    backward_calls: int = Field(description="Backward calls that carried them (a batched call carries many).")
    batched: bool = Field(description="False when an op had no vmap rule and the masks went one at a time.")
    seconds: float = Field(description="Wall time of the check in the worker, model build included.")


class DependencyDetails(BaseModel):
    method: str = Field(description="Gradient w.r.t. the inputs, at an embedding's output, token perturbation, or shuffles.")
    input: int | str | None = Field(None, description="The batch element checked (null: the batch is the input tensor).")
    input_shape: list[int]
    output_shape: list[int] | None = None
    threshold: float | None = Field(None, description="Relative dependence above which a forbidden pair counts as a leak.")
    batch: AxisResult | None = None
    causal: AxisResult | None = None
    position: PositionResult | None = None
    cost: Cost


class DependencyResult(ToolResult[DependencyDetails]):
    pass


TOOL = harness_tool(
    name="check_dependencies",
    check="dependencies",
    args=DependencyArgs,
    result=DependencyResult,
    description=(
        "Does example i's output depend on example j's input (mode='batch'), or the output at position t on "
        "inputs after t (mode='causal', along seq_dim; 'both' runs both)? Does the model use the order of its "
        "inputs at all (mode='position': shuffles a prefix of positions; unchanged outputs after it mean no "
        "positional encoding reaches the model)? Model in eval mode (BatchNorm's training-time coupling is not "
        "flagged), called through the harness's forward(model, batch); `input` picks the batch element (index or "
        "dict key). Batch mode checks every example pair (two backward passes); causal mode checks 4 cuts by default "
        "(one backward pass at the default batch, whatever T; exhaustive=true checks every position in batched "
        "backward passes and reports the cost). "
        "Token-id inputs are differentiated at the embedding output, or perturbed when no nn.Embedding reads them. "
        "Findings: batch_dependence, future_leakage (worst (output, input) pairs, the first module where it appears, "
        "and the usual causes ranked by the evidence: mask missing, transposed, off by one, softmax over the wrong "
        "dim, heads merged without transpose, targets not shifted), no_positional_information. Use it on any "
        "attention or normalisation code, and when the training loss falls suspiciously fast; after fixing, "
        "call it again, then run_overfit_test."
    ),
)
