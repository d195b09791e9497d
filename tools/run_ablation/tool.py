"""run_ablation: same seed, same batch, a short training run per model variant, ranked.

The gauntlet's "remove components until it works, then add them back one at a time": the
harness's build_model(**model_kwargs) decides what a variant means. The work happens in
tools/run_ablation/check.py.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field, field_validator

from ..runtime.bounds import Name, Seed
from ..runtime.dispatch import execute
from ..runtime.envelope import ToolResult
from ..runtime.harness_args import CallTimeout, Device, HarnessArgs, HarnessPath, HarnessSeed, ModelKwargs, Names
from ..runtime.runner import ProgressCallback
from ..runtime.tool import Runtime, Tool
from ..runtime.tool_call import call_tool
from ..shared.plots import loss_curves_plot
from .details import AblationDetails, TrainedRun, TrainedRuns

BASELINE = "baseline"


Variants = Annotated[
    dict[Name, dict[str, Any]],
    Field(
        min_length=1,
        max_length=16,
        description="Variant name -> build_model keyword arguments, merged over model_kwargs (the baseline), "
        'e.g. {"no_dropout": {"dropout": 0.0}, "no_attention": {"use_attention": false}}.',
    ),
]
Steps = Annotated[
    int,
    Field(
        ge=1,
        le=20_000,
        description="Training steps per variant and seed, on get_train_batch's stream when the "
        "harness has one, else on one fixed get_batch batch.",
    ),
]
Seeds = Annotated[
    list[Seed] | None,
    Field(
        min_length=1,
        max_length=8,
        description="Train every variant from each of these seeds (default [seed]); differences within the seed "
        "spread are reported as noise. e.g. [0, 1, 2].",
    ),
]
RankBy = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=200,
        description='"loss" (final training loss), or a metric evaluate(model) returns, e.g. "test_accuracy". '
        "Default: the harness's objective when it declares one, else the loss.",
    ),
]
Lr = Annotated[
    float,
    Field(gt=0, le=10, description="Learning rate for make_optimizer (default Adam), the same for all."),
]
BatchSize = Annotated[int, Field(ge=1, le=100_000, description="Examples in the fixed training batch.")]


class AblationArgs(HarnessArgs):
    variants: Variants
    steps: Steps = 200
    seeds: Seeds = None
    rank_by: RankBy = None
    lr: Lr = 1e-3
    batch_size: BatchSize = 32

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int] | None) -> list[int] | None:
        if seeds is not None and (len(set(seeds)) != len(seeds) or min(seeds) < 0):
            raise ValueError(f"seeds must be distinct non-negative integers, got {seeds}")
        return seeds

    @field_validator("variants")
    @classmethod
    def _named(cls, variants: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name in variants:
            if not name.strip():
                raise ValueError("every variant needs a non-empty name")
            if name == BASELINE:
                raise ValueError(f"'{BASELINE}' is reserved for model_kwargs itself; name the variant differently")
        return variants


class AblationResult(ToolResult[AblationDetails]):
    pass


def _plot(result: AblationResult) -> list[tuple[str, bytes]]:
    if result.details is None:
        return []
    curves = {v.name: v.curve for v in result.details.variants if v.curve is not None}
    if not curves:
        return []
    return [("ablation", loss_curves_plot(curves, title="Ablation: training loss per variant", xlabel="step"))]


class _AblationPart(AblationArgs):
    """One job of an ablation fanned out over an executor: the (variant, seed) pairs to train, or
    every run trained, to judge."""

    train_only: list[tuple[str, int]] | None = None
    trained: list[TrainedRun] | None = None


class _RunsResult(ToolResult[TrainedRuns]):
    pass


async def _fanned_out(args: AblationArgs, runtime: Runtime, progress: ProgressCallback | None) -> AblationResult:
    """Each (variant, seed) a job of the executor (a Ray task), then one local job judges them all."""
    pairs = [(name, seed) for name in [BASELINE, *args.variants] for seed in (args.seeds or [args.seed])]
    parts: list[_RunsResult | None] = [None] * len(pairs)

    async def train(index: int) -> None:
        part = _AblationPart(**args.model_dump(), train_only=[pairs[index]])
        parts[index] = await execute("run_ablation", "run_ablation", _RunsResult, part, runtime, None, fan_out=True)
        if progress is not None:
            await progress(
                sum(p is not None for p in parts), len(pairs), f"{pairs[index][0]} seed {pairs[index][1]} trained"
            )

    async with anyio.create_task_group() as tasks:
        for index in range(len(pairs)):
            tasks.start_soon(train, index)
    failed = next((p for p in parts if p.details is None), None)
    if failed is not None:  # the harness itself is broken (rank_by, evaluate): every pair says so
        return AblationResult(status=failed.status, summary=failed.summary, findings=failed.findings, run=failed.run)
    judge = _AblationPart(**args.model_dump(), trained=[run for p in parts for run in p.details.runs])
    return await execute("run_ablation", "run_ablation", AblationResult, judge, runtime, progress)


async def _invoke(args: AblationArgs, runtime: Runtime, progress: ProgressCallback | None) -> AblationResult:
    if runtime.executor is runtime.pool:  # one machine: one job trains everything, no fan-out to pay for
        return await execute("run_ablation", "run_ablation", AblationResult, args, runtime, progress)
    return await _fanned_out(args, runtime, progress)


async def run_ablation(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: CallTimeout = None,
    variants: Variants,
    steps: Steps = 200,
    seeds: Seeds = None,
    rank_by: RankBy = None,
    lr: Lr = 1e-3,
    batch_size: BatchSize = 32,
) -> Annotated[CallToolResult, AblationResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = Tool(
    name="run_ablation",
    args=AblationArgs,
    result=AblationResult,
    function=run_ablation,
    description=(
        "Which component breaks (or helps) training? Trains the baseline (model_kwargs) and each named variant "
        "(build_model(**model_kwargs, **variant)) from the same seeds on the same data (get_train_batch when the "
        "harness has it, else one fixed batch) for `steps` steps, and ranks them by rank_by: the final loss, or an "
        "evaluate() metric (default: the harness's objective). With several seeds, differences within the seed "
        "spread are called noise. Losses of variants that change the loss's terms (no KL) are said not to be "
        "comparable. Findings: variant_has_no_effect (a variant trains exactly like the baseline: the switch does "
        "nothing), loss_not_decreasing (the baseline does not learn while no variant that switches a component on "
        "does), non_finite_loss and user_code_error (per variant; the others still run), variant_beats_baseline "
        "(info: a component switched off trains better, inspect it; switched on, it helps). Use it to remove "
        "components until the model trains, then add them back one at a time, or to reproduce a paper's ablation."
    ),
    invoke=_invoke,
    plot=_plot,
)
