"""run_ablation: same seed, same batch, a short training run per model variant, ranked.

The gauntlet's "remove components until it works, then add them back one at a time": the
harness's build_model(**model_kwargs) decides what a variant means. The work happens in
tools/worker/ablation.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from .envelope import Curve, ToolResult
from .harness_tool import HarnessArgs, harness_tool
from .plots import loss_curves_plot

BASELINE = "baseline"


class AblationArgs(HarnessArgs):
    variants: dict[str, dict[str, Any]] = Field(
        min_length=1,
        max_length=16,
        description='Variant name -> build_model keyword arguments, merged over model_kwargs (the baseline), '
        'e.g. {"no_dropout": {"dropout": 0.0}, "no_attention": {"use_attention": false}}.',
    )
    steps: int = Field(200, ge=1, le=20_000, description="Training steps per variant, on the same fixed batch.")
    lr: float = Field(1e-3, gt=0, le=10, description="Learning rate for make_optimizer (default Adam), the same for all.")
    batch_size: int = Field(32, ge=1, le=100_000, description="Examples in the fixed training batch.")

    @field_validator("variants")
    @classmethod
    def _named(cls, variants: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name in variants:
            if not name.strip():
                raise ValueError("every variant needs a non-empty name")
            if name == BASELINE:
                raise ValueError(f"'{BASELINE}' is reserved for model_kwargs itself; name the variant differently")
        return variants


class VariantResult(BaseModel):
    name: str
    model_kwargs: dict[str, Any] = Field(default_factory=dict, description="What this variant changes over the baseline.")
    params: int | None = Field(None, description="Parameter count of the built model.")
    initial_loss: float | None = None
    final_loss: float | None = Field(None, description="Mean loss over the last 10 steps (or fewer); null if NaN/Inf.")
    best_loss: float | None = None
    delta_vs_baseline: float | None = Field(None, description="final_loss minus the baseline's; negative trains better.")
    rank: int | None = Field(None, description="1 = lowest final loss; null when the variant failed.")
    steps_run: int | None = None
    non_finite_at_step: int | None = None
    curve: Curve | None = None
    error: str | None = Field(None, description="Set when build_model or training raised for this variant.")


class AblationDetails(BaseModel):
    ranking: list[str] = Field(description="Variant names by final loss, best first (failed variants left out).")
    variants: list[VariantResult] = Field(description="The baseline first, then the variants in the order given.")


class AblationResult(ToolResult[AblationDetails]):
    pass


def _plot(result: AblationResult) -> list[tuple[str, bytes]]:
    if result.details is None:
        return []
    curves = {v.name: v.curve for v in result.details.variants if v.curve is not None}
    if not curves:
        return []
    return [("ablation", loss_curves_plot(curves, title="Ablation: training loss per variant", xlabel="step"))]


TOOL = harness_tool(
    name="run_ablation",
    check="ablation",
    args=AblationArgs,
    result=AblationResult,
    description=(
        "Which component breaks (or helps) training? Trains the baseline (model_kwargs) and each named variant "
        "(build_model(**model_kwargs, **variant)) from the same seed on the same fixed batch for `steps` steps, "
        "and ranks them by final loss with the delta to the baseline. Use it to remove components until the "
        "model trains, then add them back one at a time. Findings: loss_not_decreasing (the baseline does not "
        "learn), non_finite_loss and user_code_error (per variant; the others still run), variant_beats_baseline "
        "(info). Next: fix the component the best variant removes, then run_overfit_test on the baseline."
    ),
    plot=_plot,
)
