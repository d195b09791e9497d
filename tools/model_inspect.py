"""inspect_model: every module's output shape and parameter count, against the paper's total.

The work happens in tools/worker/model_inspect.py.
"""

from __future__ import annotations

from pydantic import Field

from .envelope import ToolResult
from .harness_tool import HarnessArgs, harness_tool
from .worker.details import InspectDetails


class InspectArgs(HarnessArgs):
    batch_size: int = Field(2, ge=1, le=4096, description="Examples in the batch sent through the model for shapes.")
    expected_param_count: int | None = Field(
        None, ge=1, description="The paper's total parameter count, e.g. 5210 (MNIST-1D CNN) or 11700000 ('11.7M')."
    )
    tolerance: float = Field(
        0.01, ge=0, le=1, description="Relative. 1 % absorbs counts rounded to 2-3 significant figures ('11.7M'); "
        "any difference inside it is still reported as info. Pass 0 when the paper gives an exact count."
    )


class InspectResult(ToolResult[InspectDetails]):
    pass


TOOL = harness_tool(
    name="inspect_model",
    check="model_inspect",
    args=InspectArgs,
    result=InspectResult,
    description=(
        "What is the model made of? Runs one small batch through it and returns the shape trace (input -> each "
        "top-level block's output), a module tree with output shapes and parameter counts, the total / trainable / "
        "frozen / buffer counts (tied weights counted once), frozen copies (a target network or EMA copy, compared "
        "with the paper's count without them), and modules hidden in plain lists/dicts. "
        "Findings: param_count_mismatch (pass expected_param_count from the paper), unregistered_modules, "
        "schedule_constant (a schedule buffer such as betas with one value in every slot). "
        "schedule_off_by_one (a diffusion alpha-bar buffer one step behind its betas). "
        "Call it right after writing the model; then check_initialization."
    ),
)
