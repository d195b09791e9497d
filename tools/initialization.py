"""check_initialization: is the model healthy before its first training step?

Loss at init against ln C, dead / saturated activations, the layer-over-layer trend of the
signal, the init scheme each Linear/Conv weight follows, and the inputs' scale. The work
happens in tools/worker/initialization.py.
"""

from __future__ import annotations

from pydantic import Field

from .envelope import ToolResult
from .harness_tool import HarnessArgs, harness_tool
from .worker.details import InitDetails


class InitArgs(HarnessArgs):
    batch_size: int = Field(
        128, ge=2, le=65_536, description="Examples in the training batch; dead units are judged over it (>= 2)."
    )
    expected_init_loss: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Loss expected at init (e.g. 64 ln 2 = 44.36 for a Bernoulli decoder on 64 pixels). "
        "Default for the default cross-entropy only: ln(num_classes), or ln(C) from the logits' last dim; a custom "
        "loss_fn is checked only against this value."
    )
    tolerance: float = Field(
        1.0, gt=0, le=100, description="Relative: a mismatch when loss/expected > 1 + tolerance or < 1/(1 + tolerance). "
        "Default inits land within 1 % of ln C, Xavier within 15 %, Kaiming on the classifier up to ~100 % for 2 classes."
    )


class InitResult(ToolResult[InitDetails]):
    pass


TOOL = harness_tool(
    name="check_initialization",
    check="initialization",
    args=InitArgs,
    result=InitResult,
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
