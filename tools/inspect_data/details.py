"""The details inspect_data answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from dataclasses import field

from ..wire.details import typed_details


@typed_details
class ChannelStats:
    """Statistics along dim 1: channels of an image, features of a (B, F) table."""

    count: int
    """Size of dim 1."""
    mean_range: list[float | None]
    """[lowest, highest] per-channel mean."""
    std_range: list[float | None]
    """[lowest, highest] per-channel std."""
    mean: list[float | None] | None = None
    """Per-channel means (3-D+ inputs, first 16 channels)."""
    std: list[float | None] | None = None
    """Per-channel stds (3-D+ inputs, first 16 channels)."""


@typed_details
class LabelStats:
    num_classes: int | None = None
    """The harness's num_classes, if it defines one."""
    min: int | None
    """Lowest label, padding left out; null when every target is padding."""
    max: int | None
    distinct: int
    """Number of distinct labels in the batch."""
    histogram: list[list[int]]
    """[label, count] pairs of the 20 most frequent labels, by label."""
    other: int = 0
    """Count of labels not listed in the histogram."""
    ignored: int = 0
    """Targets equal to ignore_index: padding, left out of the range and histogram."""
    ignore_index: int = -100
    """The harness's ignore_index (PyTorch's -100 by default)."""


@typed_details
class TensorSummary:
    path: str
    """Where the tensor sits in the batch, e.g. batch[0] or batch['x']."""
    role: str | None = None
    """inputs or targets, as the other tools will read them."""
    shape: list[int]
    dtype: str
    device: str
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    """Over finite elements."""
    std: float | None = None
    """Over finite elements."""
    nan: int = 0
    inf: int = 0
    channels: ChannelStats | None = None
    """Float tensors of 2+ dims: statistics along dim 1."""
    labels: LabelStats | None = None
    """Integer targets: range and histogram."""
    pixel_levels: int | None = None
    """16 or 255 when the tensor holds whole numbers in [0, 16] / [0, 255] stored as an image (uint8 or float,
    or an integer tensor of 3+ dims): raw pixel levels. Integer (B, T) tensors are token ids."""


@typed_details
class SplitSummary:
    split: str
    supported: bool
    """False when get_batch refused the split (ValueError/KeyError...)."""
    structure: str | None = None
    """The batch's nesting with dtype[shape] per tensor."""
    tensors: list[TensorSummary] = field(default_factory=list)
    """First 16 tensors of the batch."""
    deterministic: bool | None = None
    """Whether two get_batch calls returned identical batches."""
    error: str | None = None


@typed_details
class SplitOverlap:
    splits: list[str]
    """[a, b]: examples of b that also appear in a."""
    sampled: list[int]
    """Examples hashed from a and from b."""
    overlapping: int
    """Examples of b identical to some example of a."""
    pairs: list[list[int]]
    """First (index in a, index in b) pairs."""


@typed_details
class DataDetails:
    batch_size: int
    splits: list[SplitSummary]
    overlap: list[SplitOverlap] = field(default_factory=list)
