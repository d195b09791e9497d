"""run_overfit_test: can the implementation memorise 1, 10, 100 examples?

The first gate of the debugging gauntlet. The work happens in tools/worker/overfit.py.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from .envelope import Curve, ToolResult
from .harness_tool import HarnessArgs, harness_tool
from .plots import loss_curves_plot


class OverfitArgs(HarnessArgs):
    sizes: list[int] = Field(
        [1, 10, 100], min_length=1, max_length=8, description="Numbers of fixed training examples to memorise, each its own run."
    )
    steps: int = Field(500, ge=1, le=20_000, description="Maximum optimisation steps per size; a run stops at the target.")
    lr: float = Field(1e-3, gt=0, le=10, description="Learning rate for make_optimizer (default Adam).")
    target_loss: float | None = Field(
        None,
        description="Loss that counts as memorised. Default: 5% of the initial loss, or with the harness's loss_floor "
        "floor + 5% of (initial - floor). A target below the floor is raised to it.",
    )

    @field_validator("sizes")
    @classmethod
    def _positive_sizes(cls, sizes: list[int]) -> list[int]:
        if any(size < 1 or size > 100_000 for size in sizes):
            raise ValueError("every size must be between 1 and 100000 examples")
        return sizes


class TermValues(BaseModel):
    initial: float | None = Field(None, description="The term at init, on the fixed batch.")
    final: float | None = Field(None, description="The term at the last training step.")


class ModeCheck(BaseModel):
    train_mode_loss: float | None = Field(None, description="Loss on the batch after training, in train mode.")
    eval_mode_loss: float | None = Field(None, description="The same in eval mode (BatchNorm running stats, no dropout).")
    buffers_tracked: int | None = Field(None, description="Running-statistics buffers checked for updates.")
    skipped: str | None = Field(None, description="Why the train/eval checks did not run at this size.")


class SizeResult(BaseModel):
    size: int
    initial_loss: float | None = None
    final_loss: float | None = Field(None, description="Loss at the last step.")
    end_loss: float | None = Field(None, description="Median of the last 5 steps: what the verdict uses.")
    best_loss: float | None = None
    loss_floor: float | None = Field(None, description="The harness's loss_floor on this batch.")
    target_loss: float | None = Field(None, description="Null for on-policy harnesses: a surrogate has no target.")
    steps_run: int | None = None
    steps_to_target: int | None = Field(None, description="First step at or below the target; null if never.")
    reached_target: bool = False
    params_changed: bool | None = Field(None, description="Whether any parameter moved during training.")
    batch_statistics: bool | None = Field(None, description="The model keeps running statistics (BatchNorm).")
    unchanged_params: list[str] = Field(default_factory=list, description="Parameters that never moved (first 10).")
    non_finite_at_step: int | None = None
    terms: dict[str, TermValues] = Field(default_factory=dict, description="Named terms of a loss or train_step dict.")
    mode: ModeCheck | None = Field(None, description="Train-mode vs eval-mode loss and running-statistics buffers.")
    curve: Curve | None = None
    error: str | None = Field(None, description="Set when the user's code raised at this size.")


class OverfitDetails(BaseModel):
    sizes: list[SizeResult]
    on_policy: bool = Field(False, description="get_train_batch takes the model: each size trains on one fixed batch "
                            "of rollouts, and its surrogate loss is judged only on moving and staying finite.")


class OverfitResult(ToolResult[OverfitDetails]):
    pass


def _plot(result: OverfitResult) -> list[tuple[str, bytes]]:
    if result.details is None:
        return []
    curves = {f"{s.size} example(s)": s.curve for s in result.details.sizes if s.curve is not None}
    if not curves:
        return []
    return [("overfit", loss_curves_plot(curves, title="Overfit test: training loss per batch size", xlabel="step"))]


TOOL = harness_tool(
    name="run_overfit_test",
    check="overfit",
    args=OverfitArgs,
    result=OverfitResult,
    description=(
        "Can the implementation memorise 1, 10, 100 fixed examples? Trains a fresh model on each fixed batch "
        "(the harness's train_step/make_optimizer if defined) and judges the loss, not accuracy. "
        "With a loss_floor the target sits above it; a loss below the floor, falling without limit or with a negative "
        "KL term is a sign error, never memorised. Findings: overfit_failed, loss_not_decreasing, params_not_updated, "
        "diverged, non_finite_loss, loss_below_floor, loss_unbounded, negative_kl, train_eval_gap, buffers_not_updated. "
        "Run it first when training misbehaves; if it fails, call gradient_check next."
    ),
    plot=_plot,
)
