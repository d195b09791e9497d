"""inspect_data: what does a batch hold, is get_batch deterministic, do the splits overlap?

Step 1 of the scaffold, before any model exists: the most expensive silent bugs live in
the data. The work happens in tools/worker/data_inspect.py; no model is built.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from .envelope import ToolResult
from .harness_tool import HarnessArgs, harness_tool


class DataArgs(HarnessArgs):
    batch_size: int = Field(256, ge=1, le=65_536, description="Examples per get_batch call for the statistics.")
    splits: list[str] = Field(
        ["train", "test"], min_length=1, max_length=5, description="Splits to inspect, passed to get_batch(n, split)."
    )
    overlap_sample: int = Field(
        2048,
        ge=0,
        le=65_536,
        description="Examples drawn per split for the overlap check (rows of the input tensor hashed exactly); "
        "0 skips it. Lower it for large inputs: the whole sample sits in memory.",
    )

    @field_validator("splits")
    @classmethod
    def _distinct_names(cls, splits: list[str]) -> list[str]:
        if any(not name.strip() for name in splits):
            raise ValueError("split names must be non-empty, e.g. ['train', 'test']")
        if len(set(splits)) != len(splits):
            raise ValueError(f"split names must be unique, got {splits}")
        return splits


class ChannelStats(BaseModel):
    """Statistics along dim 1: channels of an image, features of a (B, F) table."""

    count: int = Field(description="Size of dim 1.")
    mean_range: list[float | None] = Field(description="[lowest, highest] per-channel mean.")
    std_range: list[float | None] = Field(description="[lowest, highest] per-channel std.")
    mean: list[float | None] | None = Field(None, description="Per-channel means (3-D+ inputs, first 16 channels).")
    std: list[float | None] | None = Field(None, description="Per-channel stds (3-D+ inputs, first 16 channels).")


class LabelStats(BaseModel):
    num_classes: int | None = Field(None, description="The harness's num_classes, if it defines one.")
    min: int | None = Field(description="Lowest label, padding left out; null when every target is padding.")
    max: int | None
    distinct: int = Field(description="Number of distinct labels in the batch.")
    histogram: list[list[int]] = Field(description="[label, count] pairs of the 20 most frequent labels, by label.")
    other: int = Field(0, description="Count of labels not listed in the histogram.")
    ignored: int = Field(0, description="Targets equal to ignore_index: padding, left out of the range and histogram.")
    ignore_index: int = Field(-100, description="The harness's ignore_index (PyTorch's -100 by default).")


class TensorSummary(BaseModel):
    path: str = Field(description="Where the tensor sits in the batch, e.g. batch[0] or batch['x'].")
    role: str | None = Field(None, description="inputs or targets, as the other tools will read them.")
    shape: list[int]
    dtype: str
    device: str
    min: float | None = None
    max: float | None = None
    mean: float | None = Field(None, description="Over finite elements.")
    std: float | None = Field(None, description="Over finite elements.")
    nan: int = 0
    inf: int = 0
    channels: ChannelStats | None = Field(None, description="Float tensors of 2+ dims: statistics along dim 1.")
    labels: LabelStats | None = Field(None, description="Integer targets: range and histogram.")
    pixel_levels: int | None = Field(
        None,
        description="16 or 255 when the tensor holds whole numbers in [0, 16] / [0, 255] stored as an image "
        "(uint8 or float, or an integer tensor of 3+ dims): raw pixel levels. Integer (B, T) tensors are token ids.",
    )


class SplitSummary(BaseModel):
    split: str
    supported: bool = Field(description="False when get_batch refused the split (ValueError/KeyError...).")
    structure: str | None = Field(None, description="The batch's nesting with dtype[shape] per tensor.")
    tensors: list[TensorSummary] = Field(default_factory=list, description="First 16 tensors of the batch.")
    deterministic: bool | None = Field(None, description="Whether two get_batch calls returned identical batches.")
    error: str | None = None


class SplitOverlap(BaseModel):
    splits: list[str] = Field(description="[a, b]: examples of b that also appear in a.")
    sampled: list[int] = Field(description="Examples hashed from a and from b.")
    overlapping: int = Field(description="Examples of b identical to some example of a.")
    pairs: list[list[int]] = Field(description="First (index in a, index in b) pairs.")


class DataDetails(BaseModel):
    batch_size: int
    splits: list[SplitSummary]
    overlap: list[SplitOverlap] = Field(default_factory=list)


class DataResult(ToolResult[DataDetails]):
    pass


TOOL = harness_tool(
    name="inspect_data",
    check="data_inspect",
    args=DataArgs,
    result=DataResult,
    description=(
        "Step 1 of the scaffold, no model needed: what does a batch of each split hold (structure, shape, dtype, "
        "device, min/max, mean/std per channel, NaN/Inf counts, label histogram against num_classes, targets equal to "
        "ignore_index counted as padding)? Is "
        "get_batch deterministic (two calls compared elementwise)? Do the splits share identical examples "
        "(rows of the input tensor hashed over overlap_sample examples)? Findings: non_finite_inputs, "
        "label_out_of_range, split_overlap, nondeterministic_batch, unnormalized_inputs (float inputs far from "
        "zero mean / unit std, or raw pixel levels 0..16 / 0..255 whatever their std, in any input of a tuple or "
        "dict batch; integer (B, T) token ids are never judged); split_unsupported (info) "
        "for a split get_batch refuses. When it passes, call inspect_model next."
    ),
)
