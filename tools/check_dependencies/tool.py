"""check_dependencies: does example i's output depend on example j? does position t see
positions after t? The work happens in tools/check_dependencies/check.py.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from ..runtime.bounds import Name
from ..runtime.envelope import ToolResult
from ..runtime.harness_args import CallTimeout, Device, HarnessArgs, HarnessPath, HarnessSeed, ModelKwargs, Names
from ..runtime.harness_tool import harness_tool
from ..runtime.tool_call import call_tool
from .details import DependencyDetails

Mode = Annotated[
    Literal["batch", "causal", "both", "position"],
    Field(
        description="batch: examples must not see each other; causal: position t must not see inputs after t; "
        "both: batch and causal; position: shuffling input positions must change the outputs (a positional "
        "encoding reaches the model).",
    ),
]
Input = Annotated[
    Annotated[int, Field(ge=0, le=64)] | Name | None,
    Field(
        description="Which element of the batch is the input to differentiate or perturb: an index of a tuple/list "
        "batch or a key of a dict batch (e.g. 'tgt' for an encoder-decoder's decoder tokens). Default: batch[0], or "
        "the 'inputs'/'input'/'x' key. The model is called through the harness's forward(model, batch) "
        "when it has one.",
    ),
]
SeqDim = Annotated[
    int,
    Field(ge=1, le=8, description="Dimension of the input and the output that indexes positions (dim 0 is the batch)."),
]
BatchSize = Annotated[
    int,
    Field(
        ge=2,
        le=64,
        description="Examples in the checked batch; every one is checked (batch mode: two backward passes "
        "for up to 24 examples, one per example beyond, or when a leak shows).",
    ),
]
MaxPositions = Annotated[
    int | None,
    Field(
        ge=1,
        le=4096,
        description="Causal mode: measure this many output positions, evenly spread, each against every later input "
        "(one input-only backward each, batched); T-1 or more checks every position. Default: 4 cuts (every output "
        "up to t against every input after t), a few backward passes whatever T is.",
    ),
]
Exhaustive = Annotated[
    bool,
    Field(description="Causal mode: check every position (same as max_positions=T-1); the result reports the cost."),
]


class DependencyArgs(HarnessArgs):
    mode: Mode = "batch"
    input: Input = None
    seq_dim: SeqDim = 1
    batch_size: BatchSize = 4
    max_positions: MaxPositions = None
    exhaustive: Exhaustive = False


class DependencyResult(ToolResult[DependencyDetails]):
    pass


async def check_dependencies(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: CallTimeout = None,
    mode: Mode = "batch",
    input: Input = None,
    seq_dim: SeqDim = 1,
    batch_size: BatchSize = 4,
    max_positions: MaxPositions = None,
    exhaustive: Exhaustive = False,
) -> Annotated[CallToolResult, DependencyResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = harness_tool(
    name="check_dependencies",
    check="check_dependencies",
    args=DependencyArgs,
    result=DependencyResult,
    function=check_dependencies,
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
        "dim, heads merged without transpose, targets not shifted; an encoder's leak is info: it is meant to see both "
        "sides), no_positional_information. Modes batch/both also probe the batch's roles (inferred, or the harness's "
        "batch_roles): unused_input (a timestep/condition the model is called with never changes its output), "
        "encoder_not_bidirectional, padding_leak, loss_on_unselected_positions, no_positional_information (an "
        "encoder whose outputs permute with its real positions); a transition batch (a next_states key) "
        "gradient_through_target (an undetached TD target), unused_batch_key (done never read), undiscounted_target "
        "(gamma 1); a batch that shows a causal LM also "
        "gets the causal cuts. Use it on any "
        "attention or normalisation code, and when the training loss falls suspiciously fast; after fixing, "
        "call it again, then run_overfit_test."
    ),
)
