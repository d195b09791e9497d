"""inspect_data: what does a batch hold, is get_batch deterministic, do the splits overlap?

Step 1 of the scaffold, before any model exists: the most expensive silent bugs live in
the data. The work happens in tools/inspect_data/check.py; no model is built.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field, field_validator

from ..runtime.bounds import Name
from ..runtime.envelope import ToolResult
from ..runtime.harness_args import CallTimeout, Device, HarnessArgs, HarnessPath, HarnessSeed, ModelKwargs, Names
from ..runtime.harness_tool import harness_tool
from ..runtime.tool_call import call_tool
from .details import DataDetails

BatchSize = Annotated[int, Field(ge=1, le=65_536, description="Examples per get_batch call for the statistics.")]
Splits = Annotated[
    list[Name],
    Field(min_length=1, max_length=5, description="Splits to inspect, passed to get_batch(n, split)."),
]
OverlapSample = Annotated[
    int,
    Field(
        ge=0,
        le=65_536,
        description="Examples drawn per split for the overlap check (rows of the input tensor hashed exactly); "
        "0 skips it. Lower it for large inputs: the whole sample sits in memory.",
    ),
]


class DataArgs(HarnessArgs):
    batch_size: BatchSize = 256
    splits: Splits = ["train", "test"]
    overlap_sample: OverlapSample = 2048

    @field_validator("splits")
    @classmethod
    def _distinct_names(cls, splits: list[str]) -> list[str]:
        if any(not name.strip() for name in splits):
            raise ValueError("split names must be non-empty, e.g. ['train', 'test']")
        if len(set(splits)) != len(splits):
            raise ValueError(f"split names must be unique, got {splits}")
        return splits


class DataResult(ToolResult[DataDetails]):
    pass


async def inspect_data(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: CallTimeout = None,
    batch_size: BatchSize = 256,
    splits: Splits = ["train", "test"],  # noqa: B006 - the SDK validates a copy per call; nothing mutates it
    overlap_sample: OverlapSample = 2048,
) -> Annotated[CallToolResult, DataResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = harness_tool(
    name="inspect_data",
    check="inspect_data",
    args=DataArgs,
    result=DataResult,
    function=inspect_data,
    description=(
        "Step 1 of the scaffold, no model needed: what does a batch of each split hold (structure, shape, dtype, "
        "device, min/max, mean/std per channel, NaN/Inf counts, label histogram against num_classes, targets equal to "
        "ignore_index counted as padding)? Is "
        "get_batch deterministic (two calls compared elementwise)? Do the splits share identical examples "
        "(rows of the input tensor hashed over overlap_sample examples)? Findings: non_finite_inputs, "
        "label_out_of_range, split_overlap, nondeterministic_batch, unnormalized_inputs (float inputs far from "
        "zero mean / unit std, or raw pixel levels 0..16 / 0..255 whatever their std, in any input of a tuple or "
        "dict batch; integer (B, T) token ids are never judged), noise_shared_across_batch (one random draw "
        "repeated in every example), input_carries_target (inputs equal their targets at the supervised "
        "positions: an MLM input never masked); split_unsupported (info) "
        "for a split get_batch refuses. When it passes, call inspect_model next."
    ),
)
