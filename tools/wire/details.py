"""The `details` of every tool a worker answers, typed once for both sides.

The worker builds these dataclasses (a misspelt or unknown field is a TypeError there, naming
it) and sends `dataclasses.asdict()` of them; the server's result models declare them as their
`details`, so pydantic checks the answer against the same classes (an unknown key is refused,
not dropped) and the MCP output schema is built from them: each attribute's docstring is its
field's description. Standard library only: the worker imports it.

compare_metrics and the training-run tools build their details in the server: those stay pydantic
models beside their tools. So does lr_sweep's answer, which the server judges from what its jobs
measured (LrMeasurements, typed here).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import sys
import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

if TYPE_CHECKING:  # tells type checkers what typed_details makes; the worker needs no typing_extensions
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object):
        return lambda decorator: decorator


T = TypeVar("T")


# Read by pydantic, which validates stdlib dataclasses: unknown keys refused.
_PYDANTIC_CONFIG = {"extra": "forbid"}


@dataclass_transform(kw_only_default=True)
def typed_details(cls: type[T]) -> type[T]:
    """A keyword-only, slotted dataclass: a misspelt field fails whether passed or set. Pydantic refuses
    unknown keys when it reads one and describes each field by its attribute docstring, which this
    puts in the field's metadata: pydantic's own use_attribute_docstrings parses the whole module
    again for every class it meets (0.7 s of the server's start)."""
    cls.__pydantic_config__ = _PYDANTIC_CONFIG  # type: ignore[attr-defined]
    for name, doc in _attribute_docs(cls.__module__).get(cls.__qualname__, {}).items():
        default = cls.__dict__.get(name, dataclasses.MISSING)
        described = default if isinstance(default, dataclasses.Field) else field(default=default)
        described.metadata = types.MappingProxyType({**described.metadata, "description": doc})
        setattr(cls, name, described)
    return dataclass(kw_only=True, slots=True)(cls)


@functools.cache
def _attribute_docs(module: str) -> dict[str, dict[str, str]]:
    """{class: {attribute: its docstring}} for the top-level classes of `module`, from one parse of its source."""
    try:
        source = inspect.getsource(sys.modules[module])
    except (OSError, TypeError):  # no source shipped (a .pyc-only install): fields go undescribed, nothing breaks
        return {}
    docs: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            pairs = zip(node.body, node.body[1:])
            docs[node.name] = {
                statement.target.id: inspect.cleandoc(after.value.value)
                for statement, after in pairs
                if isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            }
    return docs


@typed_details
class Curve:
    """A loss curve, downsampled: the worker keeps the first and last step and evenly spaced ones between."""

    step: list[int] = field(default_factory=list)
    """Step indices."""
    loss: list[float | None] = field(default_factory=list)
    """Loss at those steps; null where NaN/Inf."""
    terms: dict[str, list[float | None]] | None = None
    """A training run's other per-step values at those steps: what train_step returns beside the loss
    (an epsilon, a behaviour return, a KL weight) and the terms of a loss dict; null where NaN/Inf or not logged."""


@typed_details
class HistoryPoint:
    step: int
    """Optimisation steps done when evaluate ran (0: before training)."""
    metrics: dict[str, float | None]
    """What evaluate returned; null where NaN/Inf."""


FunctionKind = Literal["function", "autograd.Function", "nn.Module"]  # what a harness attribute resolved to
