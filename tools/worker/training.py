"""The short training loops the checks share (overfit, LR sweep, ablation, training jobs).

Losses stay on the device as detached tensors and are read back in chunks: a `.item()`
per step would synchronise a GPU every step and cost more than the step itself.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from .job import JobContext

CHUNK = 25  # steps between host reads: early-stop checks and progress happen this often


def downsample(values: list[float | None], points: int = 60) -> dict[str, list]:
    """At most `points` (step, value) pairs, always keeping the first and the last step."""
    if len(values) <= points:
        steps = list(range(len(values)))
    else:
        stride = (len(values) - 1) / (points - 1)
        steps = sorted({round(i * stride) for i in range(points)})
    return {"step": steps, "loss": [values[s] for s in steps]}


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def train(
    ctx: JobContext,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_for_step: Callable[[int], Any],
    steps: int,
    *,
    stop: Callable[[list[float]], bool] | None = None,
    before_step: Callable[[int], None] | None = None,
    progress: tuple[float, float, str] | None = None,
) -> list[float]:
    """Run up to `steps` steps; return the loss of each step that ran (NaN kept as NaN).

    Stops early at a non-finite loss, or when `stop(losses)` says so (checked per chunk).
    `progress` = (done before this run, total, label) for the job's progress reports."""
    model.train()
    losses: list[float] = []
    pending: list[torch.Tensor] = []
    for step in range(steps):
        if before_step is not None:
            before_step(step)
        pending.append(ctx.harness.train_step(model, batch_for_step(step), optimizer))
        if len(pending) == CHUNK or step == steps - 1:
            chunk = torch.stack([t.float().reshape(()) for t in pending]).tolist()
            pending.clear()
            for value in chunk:
                losses.append(value)
                if not math.isfinite(value):
                    return losses
            if progress is not None:
                done, total, label = progress
                ctx.progress(
                    done + step + 1,
                    total,
                    f"{label}: step {step + 1}/{steps}, loss {losses[-1]:.4g}",
                    data={"step": step + 1, "loss": losses[-1]},
                )
            if stop is not None and stop(losses):
                return losses
    return losses
