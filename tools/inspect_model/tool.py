"""inspect_model: every module's output shape and parameter count, against the paper's total.

The work happens in tools/inspect_model/check.py.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from ..runtime.envelope import ToolResult
from ..runtime.harness_args import CallTimeout, Device, HarnessArgs, HarnessPath, HarnessSeed, ModelKwargs, Names
from ..runtime.harness_tool import harness_tool
from ..runtime.tool_call import call_tool
from .details import InspectDetails

BatchSize = Annotated[int, Field(ge=1, le=4096, description="Examples in the batch sent through the model for shapes.")]
ExpectedParamCount = Annotated[
    int | None,
    Field(ge=1, description="The paper's total parameter count, e.g. 5210 (MNIST-1D CNN) or 11700000 ('11.7M')."),
]
Tolerance = Annotated[
    float,
    Field(
        ge=0,
        le=1,
        description="Relative. 1 % absorbs counts rounded to 2-3 significant figures ('11.7M'); "
        "any difference inside it is still reported as info. Pass 0 when the paper gives an exact count.",
    ),
]


class InspectArgs(HarnessArgs):
    batch_size: BatchSize = 2
    expected_param_count: ExpectedParamCount = None
    tolerance: Tolerance = 0.01


class InspectResult(ToolResult[InspectDetails]):
    pass


async def inspect_model(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: CallTimeout = None,
    batch_size: BatchSize = 2,
    expected_param_count: ExpectedParamCount = None,
    tolerance: Tolerance = 0.01,
) -> Annotated[CallToolResult, InspectResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = harness_tool(
    name="inspect_model",
    check="inspect_model",
    args=InspectArgs,
    result=InspectResult,
    function=inspect_model,
    description=(
        "What is the model made of? Runs one small batch through it and returns the shape trace (input -> each "
        "top-level block's output), a module tree with output shapes and parameter counts, the total / trainable / "
        "frozen / buffer counts (tied weights counted once), frozen copies (a target network or EMA copy, compared "
        "with the paper's count without them), and modules hidden in plain lists/dicts. "
        "Findings: param_count_mismatch (pass expected_param_count from the paper), unregistered_modules, "
        "schedule_constant (a schedule buffer such as betas with one value in every slot). "
        "schedule_off_by_one (a diffusion alpha-bar buffer one step behind its betas). "
        "Call it right after writing the model; then check_initialization."
    ),
)
