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
        None, gt=0, description="Loss expected at init (e.g. 64 ln 2 = 44.36 for a Bernoulli decoder on 64 pixels). "
        "Default for the default cross-entropy only: ln(num_classes), or ln(C) from the logits' last dim; a custom "
        "loss_fn is checked only against this value."
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


class AttentionRow(BaseModel):
    where: str = Field(description="Module running the attention call.")
    kind: str = Field(description="softmax, scaled_dot_product_attention or MultiheadAttention.")
    shape: list[int] = Field(description="Shape of the attention weights, e.g. (B, heads, T, S).")
    rows: int = Field(description="Rows with at least two keys to attend to: the ones judged.")
    rows_with_one_key: int = Field(description="Rows a mask leaves one key (a causal first row): one-hot by construction.")
    keys: int = Field(description="Most keys any row may attend to.")
    mean_max_prob: float = Field(description="Mean over rows of the largest weight: ~1/keys healthy, ~1 one-hot.")
    mean_entropy_ratio: float = Field(description="Mean over rows of entropy / ln(keys): ~1 healthy, ~0 one-hot.")
    one_hot_fraction: float = Field(description="Rows whose largest weight is above 0.9.")


class InitDetails(BaseModel):
    init_loss: float | None = None
    terms: dict[str, float] = Field(default_factory=dict, description="The other named terms of a loss dict at init.")
    expected_loss: float | None = None
    expected_from: str | None = Field(None, description="Where the expected loss comes from, or why there is none.")
    ratio: float | None = Field(None, description="init_loss / expected_loss.")
    tolerance: float | None = None
    inputs: dict[str, Any] | None = Field(None, description="Mean, std, min, max of the float inputs.")
    activations: list[ActivationRow] = Field(default_factory=list, description="In forward order; sampled when many.")
    layers: list[LayerRow] = Field(default_factory=list, description="Linear/Conv outputs in forward order.")
    attention: list[AttentionRow] = Field(default_factory=list, description="Attention calls in forward order.")
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
