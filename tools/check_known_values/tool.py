"""check_known_values: does a harness function give the hand-worked answer?

The seed's "test with known inputs/outputs": discounted returns on a five-step trajectory,
a reparameterisation with a fixed eps, a loss on a tiny batch. Each case calls one function
of the harness with JSON arguments (lists become tensors) and compares what it returns with
the expected value, element by element. The work happens in tools/check_known_values/check.py.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..runtime.bounds import NAME_MAX, NonNegative
from ..runtime.envelope import ToolResult
from ..runtime.harness_args import CallTimeout, Device, HarnessArgs, HarnessPath, HarnessSeed, ModelKwargs, Names
from ..runtime.harness_tool import harness_tool
from ..runtime.tool_call import call_tool
from .details import KnownValuesDetails

MAX_CASES = 64  # hand-worked cases are few; each one is a call of the user's function


def _check_expected(value: Any, path: str = "expected") -> None:
    """Numbers, booleans, null, and lists and dicts of them: what a function's output is compared with."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path} is {value}: expected values must be finite numbers")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_expected(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_expected(item, f"{path}[{key!r}]")
    elif value is not None and not isinstance(value, (int, float, bool)):
        raise ValueError(
            f"{path} is {type(value).__name__} {value!r:.60}: give numbers, lists of numbers (become tensors), "
            "lists (tuples) or dicts of them"
        )


TYPED = ("float64", "float32", "int64", "bool")  # dtypes an argument may name: {"tensor": [...], "dtype": ...}


def _check_typed(value: Any, path: str) -> None:
    """Explicitly typed tensors among the arguments name a dtype the worker knows."""
    if isinstance(value, dict) and "tensor" in value and "dtype" in value:
        if set(value) != {"tensor", "dtype"} or value["dtype"] not in TYPED:
            raise ValueError(
                f'{path}: a typed tensor is {{"tensor": [...], "dtype": one of {", ".join(TYPED)}}}, got {value!r:.80}'
            )
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        _check_typed(item, f"{path}[{key!r}]")


class KnownCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    args: list[Any] = Field(
        default_factory=list,
        description="Positional arguments. A list of numbers (nested, rectangular) becomes a tensor: floats in "
        "`dtype`, booleans bool, integers int64 (actions, targets) and, when that case does not match, floats "
        '(JSON cannot tell 1 from 1.0). {"tensor": [...], "dtype": "int64"} fixes the type. Numbers stay Python '
        "numbers; dicts and ragged lists are converted item by item.",
    )
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments, converted like args.")
    expected: Any = Field(
        description="The hand-worked output: a number, a (nested) list for a tensor, a list for a tuple of outputs, "
        "a dict for a dict output (only the keys given are compared). Compared in float64; shapes must match."
    )

    @field_validator("expected")
    @classmethod
    def _comparable(cls, value: Any) -> Any:
        _check_expected(value)
        return value

    @field_validator("args", "kwargs")
    @classmethod
    def _typed(cls, value: Any) -> Any:
        _check_typed(value, "argument")
        return value


Function = Annotated[
    str,
    Field(
        min_length=1,
        max_length=NAME_MAX,
        description="Name in the harness of the function to call (a plain function, an autograd.Function "
        "subclass called via .apply, or an nn.Module class built with no arguments).",
    ),
]
Cases = Annotated[
    list[KnownCase],
    Field(
        min_length=1,
        max_length=MAX_CASES,
        description=(
            'Hand-worked cases, e.g. [{"args": [[1, 0, 0, 0, 1], 0.9], "expected": [1.6561, 0.729, 0.81, 0.9, 1.0]}].'
        ),
    ),
]
Rtol = Annotated[
    float,
    Field(ge=0, le=1, description="An element matches when |got - expected| <= atol + rtol * |expected|."),
]
Atol = Annotated[
    NonNegative,
    Field(description="Absolute tolerance; raise both when the expected values are rounded by hand."),
]
Dtype = Annotated[
    Literal["float64", "float32"],
    Field(
        description="Float type of the tensors made from float lists; float32 when the function mixes them with "
        "float32 tensors of its own (a module's weights).",
    ),
]


class KnownValuesArgs(HarnessArgs):
    function: Function
    cases: Cases
    rtol: Rtol = 1e-4
    atol: Atol = 1e-6
    dtype: Dtype = "float64"


class KnownValuesResult(ToolResult[KnownValuesDetails]):
    pass


async def check_known_values(
    ctx: Context,
    *,
    harness: HarnessPath,
    names: Names = None,
    model_kwargs: ModelKwargs = None,
    seed: HarnessSeed = 0,
    device: Device = "auto",
    timeout_s: CallTimeout = None,
    function: Function,
    cases: Cases,
    rtol: Rtol = 1e-4,
    atol: Atol = 1e-6,
    dtype: Dtype = "float64",
) -> Annotated[CallToolResult, KnownValuesResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = harness_tool(
    name="check_known_values",
    check="check_known_values",
    args=KnownValuesArgs,
    result=KnownValuesResult,
    function=check_known_values,
    description=(
        "Does a harness function give the hand-worked answer? Calls `function` once per case with JSON args/kwargs "
        "(lists become tensors) and compares its output with `expected` element by element in float64 (tuples as "
        "lists, dicts key by key). Use it on the small functions a paper's correctness hangs on: discounted "
        "returns or GAE on a five-step trajectory, log-probabilities of chosen actions, a reparameterisation "
        "with a fixed eps, a KL, a (label-smoothed) loss on a tiny batch. Findings: known_value_mismatch per "
        "failing case (expected, got, the worst element and its error, shapes that differ); user_code_error "
        "for a case that raised (the other cases still run)."
    ),
)
