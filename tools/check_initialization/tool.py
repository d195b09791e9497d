"""check_initialization: is the model healthy before its first training step?

Loss at init against ln C, dead / saturated activations, the layer-over-layer trend of the
signal, the init scheme each Linear/Conv weight follows, and the inputs' scale. The work
happens in tools/check_initialization/check.py.
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
from .details import InitDetails

BatchSize = Annotated[
    int,
    Field(ge=2, le=65_536, description="Examples in the training batch; dead units are judged over it (>= 2)."),
]
ExpectedInitLoss = Annotated[
    float | None,
    Field(
        gt=0,
        allow_inf_nan=False,
        description="Loss expected at init (e.g. 64 ln 2 = 44.36 for a Bernoulli decoder on 64 pixels). "
        "Default for the default cross-entropy only: ln(num_classes), or ln(C) from the logits' last dim; a custom "
        "loss_fn is checked only against this value.",
    ),
]
Tolerance = Annotated[
    float,
    Field(
        gt=0,
        le=100,
        description="Relative: a mismatch when loss/expected > 1 + tolerance or < 1/(1 + tolerance). "
        "Default inits land within 1 % of ln C, Xavier within 15 %, Kaiming on the classifier up to ~100 % "
        "for 2 classes.",
    ),
]


class InitArgs(HarnessArgs):
    batch_size: BatchSize = 128
    expected_init_loss: ExpectedInitLoss = None
    tolerance: Tolerance = 1.0


class InitResult(ToolResult[InitDetails]):
    pass


async def check_initialization(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: CallTimeout = None,
    batch_size: BatchSize = 128,
    expected_init_loss: ExpectedInitLoss = None,
    tolerance: Tolerance = 1.0,
) -> Annotated[CallToolResult, InitResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = harness_tool(
    name="check_initialization",
    check="check_initialization",
    args=InitArgs,
    result=InitResult,
    function=check_initialization,
    description=(
        "Is the model healthy before training? One forward pass at init: the loss against ln(num_classes) for the "
        "default cross-entropy (or expected_init_loss), each term of a loss dict, per-layer activation statistics "
        "(dead ReLU units, saturated tanh/sigmoid), attention rows (softmax, scaled_dot_product_attention, "
        "nn.MultiheadAttention: no code change), the signal's scale layer over layer, each Linear/Conv weight's std "
        "next to Kaiming/Xavier/default, and the inputs' scale. Findings: init_loss_mismatch, negative_kl, "
        "saturated_attention, dead_activations, saturated_activations, exploding_activations, vanishing_activations, "
        "unnormalized_inputs. Call it before run_overfit_test; "
        "after fixing an init problem, call gradient_check."
    ),
)
