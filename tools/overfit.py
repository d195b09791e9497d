"""run_overfit_test: can the implementation memorise 1, 10, 100 examples?

The first gate of the debugging gauntlet. The work happens in tools/worker/overfit.py.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from .envelope import ToolResult
from .harness_tool import HarnessArgs, harness_tool
from .plots import loss_curves_plot
from .worker.details import OverfitDetails


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
        "diverged, non_finite_loss, loss_below_floor, loss_unbounded, negative_kl, train_eval_gap, buffers_not_updated; "
        "for a frozen copy in the model (target network, EMA copy, teacher) grad_reaches_copy, optimizer_updates_copy, "
        "copy_never_synced, copy_not_lagging; schedule_constant for a train_step value named like a schedule "
        "(epsilon, lr, a KL weight) that never moves. "
        "A replay agent (get_batch holding transitions with a next_states key) "
        "memorises fixed transitions; on-policy rollouts are judged on moving and staying finite. "
        "Run it first when training misbehaves; if it fails, call gradient_check next."
    ),
    plot=_plot,
)
