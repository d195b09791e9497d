"""lr_sweep, worker side: measure the training loss at each learning rate; the server judges.

range: one run whose learning rate grows exponentially from min_lr to max_lr, one step
per rate (Smith's LR range test, as in fastai's and Lightning's lr_find). grid: a short
run per rate, each from the same seeded init. A grid job may run a subset of the rates
(`lr_indices`) so that the server can spread one grid over parallel workers, then judge
the merged points in one place (tools/lr_sweep.py).
"""

from __future__ import annotations

from typing import Any

import torch

from .job import JobContext
from .training import train

BLOWUP_FACTOR = 4.0  # recent loss this many times |initial| above the initial: the run has blown up, stop it
RECENT = 5  # steps averaged for that check, so that one noisy batch does not stop a run


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


def _scale_lr(optimizer: torch.optim.Optimizer, base: list[float], factor: float) -> None:
    # Scale every group from the rate make_optimizer gave it, so per-group ratios the user
    # chose (a slower backbone, say) survive the sweep.
    for group, lr in zip(optimizer.param_groups, base):
        group["lr"] = lr * factor


def _range_test(ctx: JobContext, lrs: list[float]) -> dict[str, Any]:
    batch_size = ctx.args["batch_size"]
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
    return {"lrs": lrs[: len(losses)], "losses": losses}


def _grid(ctx: JobContext, lrs: list[float], indices: list[int]) -> dict[str, Any]:
    steps, batch_size = ctx.args["steps"], ctx.args["batch_size"]
    points = []
    for done, index in enumerate(indices):
        model = ctx.build_model()  # seeded: every rate starts from the same weights
        optimizer = ctx.harness.make_optimizer(model.parameters(), lrs[index])
        losses = train(
            ctx,
            model,
            optimizer,
            lambda step: ctx.train_batch(batch_size, step, model),
            steps,
            stop=blown_up,
            progress=(done * steps, len(indices) * steps, f"lr {lrs[index]:.3g}"),
        ).loss
        points.append({"index": index, "lr": lrs[index], "losses": losses, "blew_up": blown_up(losses)})
    return {"points": points}


def run(ctx: JobContext) -> dict[str, Any]:
    args = ctx.args
    lrs = lr_values(args["min_lr"], args["max_lr"], args["num_lrs"])
    if args["mode"] == "range":
        measured = _range_test(ctx, lrs)
        summary = f"range test ran {len(measured['losses'])} of {len(lrs)} steps"
    else:
        indices = args.get("lr_indices") or list(range(len(lrs)))
        measured = _grid(ctx, lrs, indices)
        summary = f"grid ran {len(indices)} learning rate(s)"
    return {"summary": summary, "findings": [], "details": measured}
