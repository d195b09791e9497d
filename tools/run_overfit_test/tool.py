"""run_overfit_test: can the implementation memorise 1, 10, 100 examples?

The first gate of the debugging gauntlet. The work happens in tools/run_overfit_test/check.py.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field, field_validator

from ..runtime.envelope import ToolResult
from ..runtime.harness_args import CallTimeout, Device, HarnessArgs, HarnessPath, HarnessSeed, ModelKwargs, Names
from ..runtime.harness_tool import harness_tool
from ..runtime.tool_call import call_tool
from ..shared.plots import loss_curves_plot
from .details import OverfitDetails

Sizes = Annotated[
    list[int],
    Field(min_length=1, max_length=8, description="Numbers of fixed training examples to memorise, each its own run."),
]
Steps = Annotated[
    int,
    Field(ge=1, le=20_000, description="Maximum optimisation steps per size; a run stops at the target."),
]
Lr = Annotated[float, Field(gt=0, le=10, description="Learning rate for make_optimizer (default Adam).")]
TargetLoss = Annotated[
    float | None,
    Field(
        description="Loss that counts as memorised. Default: 5% of the initial loss, or with the harness's loss_floor "
        "floor + 5% of (initial - floor). A target below the floor is raised to it.",
    ),
]


class OverfitArgs(HarnessArgs):
    sizes: Sizes = [1, 10, 100]
    steps: Steps = 500
    lr: Lr = 1e-3
    target_loss: TargetLoss = None

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


async def run_overfit_test(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: CallTimeout = None,
    sizes: Sizes = [1, 10, 100],  # noqa: B006 - the SDK validates a copy per call; nothing mutates it
    steps: Steps = 500,
    lr: Lr = 1e-3,
    target_loss: TargetLoss = None,
) -> Annotated[CallToolResult, OverfitResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = harness_tool(
    name="run_overfit_test",
    check="run_overfit_test",
    args=OverfitArgs,
    result=OverfitResult,
    function=run_overfit_test,
    description=(
        "Can the implementation memorise 1, 10, 100 fixed examples? Trains a fresh model on each fixed batch "
        "(the harness's train_step/make_optimizer if defined) and judges the loss, not accuracy. "
        "With a loss_floor the target sits above it; a loss below the floor, falling without limit or with a negative "
        "KL term is a sign error, never memorised. Findings: overfit_failed, loss_not_decreasing, params_not_updated, "
        "diverged, non_finite_loss, loss_below_floor, loss_unbounded, negative_kl, train_eval_gap, "
        "buffers_not_updated; for a frozen copy in the model (target network, EMA copy, teacher) grad_reaches_copy, "
        "optimizer_updates_copy, copy_never_synced, copy_not_lagging; schedule_constant for a train_step value named "
        "like a schedule (epsilon, lr, a KL weight) that never moves. "
        "A replay agent (get_batch holding transitions with a next_states key) "
        "memorises fixed transitions; on-policy rollouts are judged on moving and staying finite. "
        "Run it first when training misbehaves; if it fails, call gradient_check next."
    ),
    plot=_plot,
)
