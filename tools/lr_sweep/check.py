"""lr_sweep, worker side: measure the training loss at each learning rate; the server judges.

range: one run whose learning rate grows exponentially from min_lr to max_lr, one step
per rate (Smith's LR range test, as in fastai's and Lightning's lr_find). grid: a short
run per rate, each from the same seeded init, under the harness's make_scheduler, with
evaluate(model) at its end when the harness declares an objective. A grid job may run a
subset of the rates (`lr_indices`) so that the server can spread one grid over parallel
workers, then judge the merged points in one place (tools/lr_sweep/tool.py).

Verdicts that need the raw per-step losses (loss_below_floor, loss_unbounded) are given
here by the shared judges; everything about which rate to use is judged by the server.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any, Literal

import torch

from ..wire.messages import LrSweepRequest
from ..worker import loss_judges
from ..worker.job import JobContext
from ..worker.training import Trace, train
from .details import GridRun, HarnessTraits, LrMeasurements, OptimizerInfo

BLOWUP_FACTOR = 4.0  # recent loss this many times |initial| above the initial: the run has blown up, stop it
RECENT = 5  # steps averaged for that check, so that one noisy batch does not stop a run
# Optimisers with a per-parameter step size: their rate means something else than SGD's.
ADAPTIVE = (torch.optim.Adagrad, torch.optim.Adadelta, torch.optim.RMSprop, torch.optim.Rprop)


def lr_values(min_lr: float, max_lr: float, count: int) -> list[float]:
    """`count` rates evenly spaced on a log axis, both ends included."""
    if count == 1:
        return [min_lr]
    ratio = max_lr / min_lr
    return [min_lr * ratio ** (i / (count - 1)) for i in range(count)]


def blown_up(losses: list[float]) -> bool:
    initial = losses[0]
    recent = losses[-RECENT:]
    return sum(recent) / len(recent) > initial + (BLOWUP_FACTOR - 1) * abs(initial)


def optimizer_family(optimizer: torch.optim.Optimizer) -> OptimizerInfo:
    """adaptive (Adam and kin: a betas entry or a per-parameter step size), momentum (SGD-like with
    momentum > 0) or sgd: how far below its divergence point a rate trains best depends on it."""
    group = optimizer.param_groups[0]
    momentum = float(group.get("momentum") or 0.0)
    family: Literal["sgd", "momentum", "adaptive"]
    if "betas" in group or isinstance(optimizer, ADAPTIVE):
        family = "adaptive"
    else:
        family = "momentum" if momentum > 0 else "sgd"
    return OptimizerInfo(name=type(optimizer).__name__, family=family, momentum=momentum)


def _scale_lr(optimizer: torch.optim.Optimizer, base: list[float], factor: float) -> None:
    # Scale every group from the rate make_optimizer gave it, so per-group ratios the user
    # chose (a slower backbone, say) survive the sweep.
    for group, lr in zip(optimizer.param_groups, base):
        group["lr"] = lr * factor


class LossVerdicts:
    """loss_below_floor / loss_unbounded over every run of a job, each code once (at the lowest rate)."""

    def __init__(self, ctx: JobContext):
        harness = ctx.harness
        self.floor = harness.loss_floor(ctx.batch(ctx.req.batch_size)) if harness.defines["loss_floor"] else None
        self.on_policy = harness.on_policy or harness.adversarial  # a surrogate loss has no bound on a fixed batch
        self.findings: dict[str, dict[str, Any]] = {}

    def judge(self, losses: list[float], where: str) -> None:
        found = [loss_judges.below_floor(losses, self.floor, where)]
        if not self.on_policy:
            found.append(loss_judges.unbounded(losses, where))
        for item in found:
            if item is not None:
                self.findings.setdefault(item["code"], item)


def _range_test(ctx: JobContext, lrs: list[float], verdicts: LossVerdicts, traits: HarnessTraits) -> LrMeasurements:
    batch_size = ctx.req.batch_size
    model = ctx.build_model()
    optimizer = ctx.harness.make_optimizer(model.parameters(), lrs[0])
    base = [group["lr"] for group in optimizer.param_groups]
    losses = train(
        ctx,
        model,
        optimizer,
        lambda step: ctx.train_batch(batch_size, step, model),
        len(lrs),
        stop=blown_up,
        before_step=lambda step: _scale_lr(optimizer, base, lrs[step] / lrs[0]),
        progress=(0, len(lrs), "range test"),
    ).loss
    verdicts.judge(losses, f"range test, lr {lrs[0]:.3g} to {lrs[len(losses) - 1]:.3g}")
    return LrMeasurements(lrs=lrs[: len(losses)], losses=losses, optimizer=optimizer_family(optimizer), traits=traits)


def _grid_run(ctx: JobContext, lr: float, progress: tuple[float, float, str]) -> tuple[Trace, torch.nn.Module, Any]:
    steps, batch_size = ctx.req.steps, ctx.req.batch_size
    model = ctx.build_model()  # seeded: every rate starts from the same weights
    optimizer, scheduler = ctx.optimizer_for(model, lr, steps)  # the base rate, under the harness's schedule
    # Judged on an objective, a growing loss may be the method working (a value loss grows with
    # the returns): only NaN/Inf stops the run then.
    stop = None if ctx.harness.objective else blown_up
    trace = train(
        ctx,
        model,
        optimizer,
        lambda step: ctx.train_batch(batch_size, step, model),
        steps,
        scheduler=scheduler,
        stop=stop,
        progress=progress,
    )
    return trace, model, optimizer


def _grid(
    ctx: JobContext, lrs: list[float], indices: list[int], verdicts: LossVerdicts, traits: HarnessTraits
) -> LrMeasurements:
    steps = ctx.req.steps
    objective = ctx.harness.objective
    # The objective before any training: what a rate must improve on.
    measured = LrMeasurements(initial_metrics=_evaluated(ctx, ctx.build_model()) if objective else {}, traits=traits)
    for done, index in enumerate(indices):
        lr = lrs[index]
        trace, model, optimizer = _grid_run(ctx, lr, (done * steps, len(indices) * steps, f"lr {lr:.3g}"))
        measured.optimizer = optimizer_family(optimizer)
        losses = trace.loss
        verdicts.judge(losses, f"grid run at lr {lr:.3g}")
        finite = all(math.isfinite(v) for v in losses)
        metrics = _evaluated(ctx, model) if objective and finite else {}
        blew_up = not objective and bool(losses) and blown_up(losses)
        measured.points.append(GridRun(index=index, lr=lr, losses=losses, blew_up=blew_up, metrics=metrics))
        # What finished so far, so that a chunk stopped at its timeout still gives its rates.
        ctx.progress(
            (done + 1) * steps, len(indices) * steps, f"lr {lr:.3g} done", data={"grid": asdict(measured)}, force=True
        )
    return measured


def _evaluated(ctx: JobContext, model: torch.nn.Module) -> dict[str, float]:
    model.eval()
    try:
        with torch.no_grad():
            return ctx.harness.evaluate(model)
    finally:
        model.train()


def _harness_traits(ctx: JobContext) -> HarnessTraits:
    harness = ctx.harness
    classes = harness.num_classes if harness.uses_default_loss else None
    return HarnessTraits(
        on_policy=harness.on_policy or harness.adversarial,
        scheduler=harness.make_scheduler_fn is not None,
        objective=harness.objective,
        # The cross-entropy of predicting the class frequencies of balanced classes: a range test that
        # never beats it learned the output bias, not the task.
        chance_loss=math.log(classes) if classes is not None and classes >= 2 else None,
    )


def run(ctx: JobContext[LrSweepRequest]) -> dict[str, Any]:
    args = ctx.req
    lrs = lr_values(args.min_lr, args.max_lr, args.num_lrs)
    traits = _harness_traits(ctx)
    verdicts = LossVerdicts(ctx)
    if args.mode != "grid" and (traits.on_policy or (args.mode == "auto" and traits.scheduler)):
        # A range test cannot judge this harness (see tools/lr_sweep/tool.py): the server says why, or runs a grid.
        return {"summary": "range test skipped", "findings": [], "details": asdict(LrMeasurements(traits=traits))}
    if args.mode == "grid":
        indices = args.lr_indices or list(range(len(lrs)))
        measured = _grid(ctx, lrs, indices, verdicts, traits)
        summary = f"grid ran {len(indices)} learning rate(s)"
    else:
        measured = _range_test(ctx, lrs, verdicts, traits)
        summary = f"range test ran {len(measured.losses)} of {len(lrs)} steps"
    return {"summary": summary, "findings": list(verdicts.findings.values()), "details": asdict(measured)}
