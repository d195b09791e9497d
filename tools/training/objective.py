"""How far and how fast a run got: the objective's best value, and the step each seed first
reached a given value ("steps to reach 72 % accuracy"), so that a speed-up can be compared with
a paper's (BatchNorm: the same accuracy in 14 times fewer steps).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from ..runtime.run_store import Best, RunRecord
from ..wire.details import HistoryPoint
from ..wire.metric_names import guess_mode


def direction(metric: str, objective: dict[str, str] | None) -> tuple[Literal["max", "min"], str]:
    """Which way is better, and who said so: the objective's mode for its own metric, else the
    metric's name (loss, nll, error, perplexity, neg_elbo: lower), else higher."""
    if objective and objective.get("monitor") == metric:
        return objective["mode"], "objective"  # type: ignore[return-value]
    guessed = guess_mode(metric)
    return (guessed, "name") if guessed else ("max", "default")


def _points(history: list[HistoryPoint], metric: str) -> list[tuple[int, float]]:
    return [
        (p.step, p.metrics[metric])
        for p in history
        if p.metrics.get(metric) is not None and math.isfinite(p.metrics[metric])
    ]


def best_of(history: list[HistoryPoint], objective: dict[str, str] | None) -> Best | None:
    """The best evaluation of the objective (the earliest, on ties)."""
    if not objective:
        return None
    points = _points(history, objective["monitor"])
    if not points:
        return None
    sign = 1 if objective["mode"] == "max" else -1
    step, value = max(points, key=lambda p: (sign * p[1], -p[0]))
    return Best(metric=objective["monitor"], mode=objective["mode"], value=value, step=step)


def first_reach(history: list[HistoryPoint], metric: str, target: float, mode: str) -> int | None:
    """The first evaluation step at which `metric` was at least as good as `target`."""
    for step, value in _points(history, metric):
        if (value >= target) if mode == "max" else (value <= target):
            return step
    return None


class Reach(BaseModel):
    metric: str
    target: float
    mode: Literal["max", "min"] = Field(description="max: reached means >= target; min: <= target.")
    mode_from: Literal["objective", "name", "default"] = Field(
        description="objective: the harness's objective; name: the metric's name; default: neither says, higher."
    )
    seeds: list[int]
    steps: list[int | None] = Field(
        description="Per seed (same order), the first evaluation step at or beyond the target; null: not reached. "
        "Resolution is eval_every."
    )
    mean_step: float | None = Field(None, description="Mean over the seeds that reached it.")
    reached: int = Field(description="How many seeds reached it.")


def reach(record: RunRecord, targets: dict[str, float]) -> list[Reach]:
    found = []
    for metric, target in targets.items():
        mode, mode_from = direction(metric, record.objective)
        steps = [first_reach(s.history, metric, target, mode) for s in record.seeds]
        hit = [s for s in steps if s is not None]
        found.append(
            Reach(
                metric=metric,
                target=target,
                mode=mode,
                mode_from=mode_from,
                seeds=[s.seed for s in record.seeds],
                steps=steps,
                mean_step=sum(hit) / len(hit) if hit else None,
                reached=len(hit),
            )
        )
    return found
