"""Every tool the server exposes, in the order an agent meets them: one line each.

Each is registered through its typed function (tools/<module>.py, beside its arguments model);
server/app.py adds them to the MCP server."""

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
    *training_jobs.TOOLS,
    compare_metrics.TOOL,
]
