"""The short training loops the checks share (overfit, LR sweep, ablation, training jobs).

Losses stay on the device as detached tensors and are read back in chunks: a `.item()`
per step would synchronise a GPU every step and cost more than the step itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch

from ..wire.compact import evenly_spaced, finite
from ..wire.details import Curve
from .job import JobContext

CHUNK = 25  # steps between host reads: early-stop checks and progress happen this often


def downsample(values: list[float | None], points: int = 60, terms: dict[str, list[float]] | None = None) -> Curve:
    """At most `points` (step, value) pairs, always keeping the first and the last step; `terms`
    (a run's train_step metrics) thinned to the same steps, NaN/Inf as None."""
    steps = evenly_spaced(len(values), points)
    curve = Curve(step=steps, loss=[values[s] for s in steps])
    if terms:
        curve.terms = {
            name: [column[s] if finite(column[s]) else None for s in steps] for name, column in terms.items()
        }
    return curve


@dataclass
class Trace:
    """What a training loop saw: the loss of every step that ran (NaN kept as NaN), and each
    named term or metric of the loss dict / train_step dict at every step."""

    loss: list[float] = field(default_factory=list)
    terms: dict[str, list[float]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.loss)

    def add(self, losses: list[float], terms: dict[str, list[float]]) -> None:
        start = len(self.loss)
        self.loss.extend(losses)
        for name, values in terms.items():
            # A term missing at some steps (a metric only logged at episode ends) is padded with NaN.
            column = self.terms.setdefault(name, [math.nan] * start)
            column.extend(values)
        for column in self.terms.values():
            column.extend([math.nan] * (len(self.loss) - len(column)))

    def extend(self, other: Trace) -> None:
        self.add(other.loss, other.terms)


def _read_chunk(
    pending: list[tuple[torch.Tensor, dict[str, torch.Tensor]]],
) -> tuple[list[float], dict[str, list[float]]]:
    """One host read for a chunk of steps: the losses, and each term (NaN where a step lacked it)."""
    names = sorted({name for _, terms in pending for name in terms})
    device = pending[0][0].device
    nan = torch.full((), math.nan, device=device)
    rows = [
        torch.stack([loss.float().reshape(()), *(terms.get(n, nan).to(device).float().reshape(()) for n in names)])
        for loss, terms in pending
    ]
    table = torch.stack([row.to(device) for row in rows]).T.tolist()  # (1 + terms, steps): one host sync
    return table[0], dict(zip(names, table[1:]))


def train(
    ctx: JobContext,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_for_step: Callable[[int], Any],
    steps: int,
    *,
    scheduler: Any = None,
    stop: Callable[[list[float]], bool] | None = None,
    before_step: Callable[[int], None] | None = None,
    after_step: Callable[[int], None] | None = None,
    progress: tuple[float, float, str] | None = None,
) -> Trace:
    """Run up to `steps` steps; return the loss (and named terms) of each step that ran.

    Stops early at a non-finite loss, or when `stop(losses)` says so (checked per chunk).
    `scheduler` (the harness's make_scheduler) is stepped after every optimiser step; `after_step(step)`
    runs after it (a watch on the model's frozen copies).
    `progress` = (done before this run, total, label) for the job's progress reports."""
    model.train()
    trace = Trace()
    pending: list[tuple[torch.Tensor, dict[str, torch.Tensor]]] = []
    for step in range(steps):
        if before_step is not None:
            before_step(step)
        batch = batch_for_step(step)
        pending.append(ctx.threads.step(partial(ctx.harness.train_step, model, batch, optimizer)))
        if scheduler is not None:
            scheduler.step()
        if after_step is not None:
            after_step(step)
        if len(pending) == CHUNK or step == steps - 1:
            losses, terms = _read_chunk(pending)
            pending.clear()
            bad = next((i for i, value in enumerate(losses) if not math.isfinite(value)), None)
            if bad is not None:
                trace.add(losses[: bad + 1], {n: v[: bad + 1] for n, v in terms.items()})
                return trace
            trace.add(losses, terms)
            if progress is not None:
                done, total, label = progress
                ctx.progress(
                    done + step + 1,
                    total,
                    f"{label}: step {step + 1}/{steps}, loss {losses[-1]:.4g}",
                    data={"step": step + 1, "loss": losses[-1]},
                )
            if stop is not None and stop(trace.loss):
                return trace
    return trace
