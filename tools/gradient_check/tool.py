"""gradient_check: do gradients reach every parameter, finite, neither exploding nor vanishing?
Does a custom function's analytic gradient match finite differences?

The second gate of the debugging gauntlet, after run_overfit_test. The work happens in
tools/gradient_check/check.py.
"""

from __future__ import annotations

import math
from typing import Annotated

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..runtime.bounds import NAME_MAX, NonNegative
from ..runtime.envelope import ToolResult
from ..runtime.harness_args import CallTimeout, Device, HarnessArgs, HarnessPath, HarnessSeed, ModelKwargs, Names
from ..runtime.harness_tool import harness_tool
from ..runtime.tool_call import call_tool
from .details import GradientDetails

MAX_INPUT_ELEMENTS = 4096  # the finite-difference check runs two forward passes per input element


class NumericalCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    function: str = Field(
        min_length=1,
        max_length=NAME_MAX,
        description="Name in the harness of a function, a torch.autograd.Function subclass (called via .apply) "
        "or an nn.Module class (built with no arguments; its parameters are checked too).",
    )
    input_shapes: list[Annotated[list[int], Field(min_length=1, max_length=8)]] = Field(
        min_length=1, max_length=8, description="Shapes of the float64 random inputs, e.g. [[4, 8]]; one per argument."
    )
    eps: float = Field(1e-6, gt=0, le=0.1, description="Finite-difference step.")
    atol: NonNegative = Field(
        1e-5, description="An element passes when |analytic - numerical| <= atol + rtol * |numerical|."
    )
    rtol: NonNegative = Field(1e-3)

    @field_validator("input_shapes")
    @classmethod
    def _small_shapes(cls, shapes: list[list[int]]) -> list[list[int]]:
        if any(dim < 1 for shape in shapes for dim in shape):
            raise ValueError("every dimension of input_shapes must be >= 1")
        total = sum(math.prod(shape) for shape in shapes)
        if total > MAX_INPUT_ELEMENTS:
            raise ValueError(
                f"input_shapes hold {total} elements; the check takes two forward passes per element, so use at "
                f"most {MAX_INPUT_ELEMENTS} (small shapes catch a wrong backward just as well)"
            )
        return shapes


BatchSize = Annotated[
    int,
    Field(ge=1, le=4096, description="Examples in the one forward/backward pass (split 'train')."),
]
Numerical = Annotated[
    NumericalCheck | None,
    Field(
        description="Check one harness function against finite differences instead of the model, e.g. "
        '{"function": "MyAttention", "input_shapes": [[2, 5, 8]]}.',
    ),
]


class GradientArgs(HarnessArgs):
    batch_size: BatchSize = 32
    numerical: Numerical = None


class GradientResult(ToolResult[GradientDetails]):
    pass


async def gradient_check(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: CallTimeout = None,
    batch_size: BatchSize = 32,
    numerical: Numerical = None,
) -> Annotated[CallToolResult, GradientResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = harness_tool(
    name="gradient_check",
    check="gradient_check",
    args=GradientArgs,
    result=GradientResult,
    function=gradient_check,
    description=(
        "Do gradients reach every parameter, finite, neither exploding nor vanishing? Runs one forward/backward "
        "pass on get_batch(batch_size) and reports per-module gradient and parameter norms by depth. "
        "Findings: params_without_grad, zero_grad, non_finite_grad, non_finite_loss (naming the first op), "
        "exploding_grad, vanishing_grad (along each stack of layers: a policy tower and a value tower are judged "
        "apart, tied embeddings left out); for a loss dict, parameters trained only by a kl... term and by no "
        "data term are params_without_grad (a VAE sample drawn under no_grad). "
        "With numerical={function, input_shapes} it instead checks that harness "
        "function, autograd.Function or nn.Module class against finite differences in float64 (gradcheck_failed). "
        "Call it when run_overfit_test fails; when it passes, call lr_sweep."
    ),
)
