"""inspect_model: every module's output shape and parameter count, against the paper's total.

The work happens in tools/worker/model_inspect.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .envelope import ToolResult
from .harness_tool import HarnessArgs, harness_tool


class InspectArgs(HarnessArgs):
    batch_size: int = Field(2, ge=1, le=4096, description="Examples in the batch sent through the model for shapes.")
    expected_param_count: int | None = Field(
        None, ge=1, description="The paper's total parameter count, e.g. 5210 (MNIST-1D CNN) or 11700000 ('11.7M')."
    )
    tolerance: float = Field(
        0.01, ge=0, le=1, description="Relative. 1 % absorbs counts rounded to 2-3 significant figures ('11.7M'); "
        "any difference inside it is still reported as info. Pass 0 when the paper gives an exact count."
    )


class ModuleRow(BaseModel):
    name: str
    depth: int = Field(description="0 for the model itself, 1 for its children, ...")
    type: str
    out: str | None = Field(None, description="Output shape(s) of the first call; null: never called.")
    params: int = Field(description="Parameters of this module and its children; a tied tensor counts under every "
                        "module that uses it, once in counts.total.")
    trainable: int | None = Field(None, description="Present only when it differs from params.")
    calls: int | None = Field(None, description="Present only when the module ran more than once.")


class InspectDetails(BaseModel):
    counts: dict[str, int] = Field(
        description="total (shared tensors once), trainable, frozen, buffers, modules, counted_twice_by_naive_sum "
        "(what torchinfo would add for tied weights), in_unregistered_modules."
    )
    expected_param_count: int | None = None
    shape_trace: list[str] = Field(default_factory=list, description="input -> each top-level block's output, in run order.")
    tree: list[ModuleRow] = Field(default_factory=list, description="Modules to tree_depth; all modules are in full_report.")
    tree_depth: int = 1
    top_modules: list[dict[str, Any]] = Field(default_factory=list, description="Largest modules by their own parameters.")
    params_by_type: dict[str, int] = Field(default_factory=dict, description="Own parameters summed per module type.")
    tied: list[dict[str, Any]] = Field(default_factory=list, description="Parameter names sharing one tensor, with its size.")
    unregistered: list[dict[str, Any]] = Field(default_factory=list, description="Plain-container attributes holding modules.")
    dtypes: dict[str, int] = Field(default_factory=dict, description="Parameter count per 'dtype on device'.")


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
        "frozen / buffer counts (tied weights counted once), and modules hidden in plain lists/dicts. "
        "Findings: param_count_mismatch (pass expected_param_count from the paper), unregistered_modules. "
        "Call it right after writing the model; then check_initialization."
    ),
)
