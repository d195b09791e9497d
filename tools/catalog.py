"""Every tool the server exposes, in the order an agent meets them."""

from __future__ import annotations

from . import ablation, compare_metrics, data_inspect, dependencies, gradients, initialization, known_values, lr_sweep, model_inspect, overfit, training_jobs
from .harness_tool import Tool

TOOLS: list[Tool] = [
    data_inspect.TOOL,
    model_inspect.TOOL,
    initialization.TOOL,
    overfit.TOOL,
    gradients.TOOL,
    known_values.TOOL,
    dependencies.TOOL,
    lr_sweep.TOOL,
    ablation.TOOL,
    training_jobs.START_TRAINING,
    training_jobs.TRAINING_STATUS,
    training_jobs.CANCEL_TRAINING,
    training_jobs.LIST_RUNS,
    compare_metrics.TOOL,
]
