"""check_initialization: is the model healthy before its first training step?

Loss at init against ln C, dead / saturated activations, the layer-over-layer trend of the
signal, the init scheme each Linear/Conv weight follows, and the inputs' scale. The work
happens in tools/worker/initialization.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .envelope import ToolResult
from .harness_tool import HarnessArgs, harness_tool


class InitArgs(HarnessArgs):
    batch_size: int = Field(
        128, ge=2, le=65_536, description="Examples in the training batch; dead units are judged over it (>= 2)."
    )
    expected_init_loss: float | None = Field(
        None, gt=0, description="Loss expected at init; default ln(num_classes) from the harness, or ln(C) from the "
        "logits' last dim when the default cross-entropy is used."
    )
    tolerance: float = Field(
        1.0, gt=0, le=100, description="Relative: a mismatch when loss/expected > 1 + tolerance or < 1/(1 + tolerance). "
        "Default inits land within 1 % of ln C, Xavier within 15 %, Kaiming on the classifier up to ~100 % for 2 classes."
    )


class ActivationRow(BaseModel):
    where: str = Field(description="Module running the activation; 'module:fn' for a functional call in its forward.")
    fn: str
    shape: list[int]
    pre_std: float | None = Field(None, description="Std of the pre-activations.")
    mean: float | None = None
    std: float | None = None
    dead_fraction: float | None = Field(None, description="ReLU-like: units never active over the batch.")
    saturated_fraction: float | None = Field(None, description="tanh/sigmoid-like: pre-activations in the flat part.")


class LayerRow(BaseModel):
    layer: str
    type: str
    signal: float | None = Field(None, description="Per-unit std over the batch of the layer's output.")
    mean: float | None = None


class WeightRow(BaseModel):
    layer: str
    shape: list[int]
    fan_in: int
    fan_out: int
    std: float | None
    kaiming_std: float = Field(description="sqrt(2/fan_in): kaiming_normal_ for ReLU.")
    xavier_std: float = Field(description="sqrt(2/(fan_in+fan_out)): xavier, gain 1.")
    default_std: float = Field(description="1/sqrt(3 fan_in): PyTorch's default for Linear/Conv.")
    matches: list[str] = Field(description="Schemes within 15 % of the std; empty: none of them.")


class InitDetails(BaseModel):
    init_loss: float | None = None
    expected_loss: float | None = None
    expected_from: str | None = Field(None, description="Where the expected loss comes from, or why there is none.")
    ratio: float | None = Field(None, description="init_loss / expected_loss.")
    tolerance: float | None = None
    inputs: dict[str, Any] | None = Field(None, description="Mean, std, min, max of the float inputs.")
    activations: list[ActivationRow] = Field(default_factory=list, description="In forward order; sampled when many.")
    layers: list[LayerRow] = Field(default_factory=list, description="Linear/Conv outputs in forward order.")
    trend: dict[str, Any] | None = Field(None, description="Signal of the last Linear/Conv over the input's.")
    weights: list[WeightRow] = Field(default_factory=list)
    init_schemes: dict[str, int] = Field(default_factory=dict, description="Layers matching each init scheme.")
    rows_total: dict[str, int] = Field(default_factory=dict, description="Rows before sampling; all are in the report.")


class InitResult(ToolResult[InitDetails]):
    pass


TOOL = harness_tool(
    name="check_initialization",
    check="initialization",
    args=InitArgs,
    result=InitResult,
    description=(
        "Is the model healthy before training? One forward pass at init: the loss against ln(num_classes) "
        "(or expected_init_loss), per-layer activation statistics (dead ReLU units, saturated tanh/sigmoid), "
        "the signal's scale layer over layer, each Linear/Conv weight's std next to Kaiming/Xavier/default, "
        "and the inputs' scale. Findings: init_loss_mismatch, dead_activations, saturated_activations, "
        "exploding_activations, vanishing_activations, unnormalized_inputs. Call it before run_overfit_test; "
        "after fixing an init problem, call gradient_check."
    ),
)
