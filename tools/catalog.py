"""Every tool the server exposes, in the order an agent meets them."""

from __future__ import annotations

from . import (
    ablation,
    compare_metrics,
    data_inspect,
    dependencies,
    gradients,
    initialization,
    known_values,
    lr_sweep,
    model_inspect,
    overfit,
    training_jobs,
)
from .tool import Tool
from .training_jobs import TrainingJobs


def tools(jobs: TrainingJobs) -> list[Tool]:
    """The tools, the training ones running on `jobs` (the service the server's lifespan opens)."""
    return [
        data_inspect.TOOL,
        model_inspect.TOOL,
        initialization.TOOL,
        overfit.TOOL,
        gradients.TOOL,
        known_values.TOOL,
        dependencies.TOOL,
        lr_sweep.TOOL,
        ablation.TOOL,
        *training_jobs.tools(jobs),
        compare_metrics.TOOL,
    ]
