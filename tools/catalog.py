"""Every tool the server exposes, in the order an agent meets them: one line each.

Each is registered through its typed function (tools/<tool>/tool.py, beside its arguments model);
server/app.py adds them to the MCP server."""

from __future__ import annotations

from .check_dependencies import tool as dependencies
from .check_initialization import tool as initialization
from .check_known_values import tool as known_values
from .compare_metrics import tool as compare_metrics
from .gradient_check import tool as gradients
from .inspect_data import tool as data_inspect
from .inspect_model import tool as model_inspect
from .lr_sweep import tool as lr_sweep
from .run_ablation import tool as ablation
from .run_overfit_test import tool as overfit
from .runtime.tool import Tool
from .training import tool as training_jobs

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
