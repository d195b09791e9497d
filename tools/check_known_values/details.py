"""The details check_known_values answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from typing import Any, Literal

from ..wire.details import FunctionKind, typed_details


@typed_details
class WorstElement:
    at: str
    """Where in the output, e.g. output[3] or output['kl'] or output[1][0, 2]."""
    expected: float
    got: float | None
    """null when NaN/Inf."""
    abs_error: float | None
    """null when the output is NaN/Inf there."""
    rel_error: float | None
    """abs_error / |expected|; null when expected is 0."""


@typed_details
class CaseResult:
    case: int
    """Index in `cases`."""
    verdict: Literal["match", "mismatch", "error"]
    elements: int = 0
    """Numbers compared."""
    mismatched: int = 0
    """Numbers outside tolerance."""
    max_abs_error: float | None = None
    """Largest |got - expected|; null when NaN/Inf."""
    worst: WorstElement | None = None
    """The element furthest outside (or closest to) tolerance."""
    problem: str | None = None
    """Shape or structure that differs, or the error that stopped the case."""
    pattern: str | None = None
    """How the output relates to the expected value, when it is simple."""
    got: Any = None
    """The output, as JSON (large tensors: shape and the first values)."""
    integer_lists: Literal["int64", "float64", "float32"] | None = None
    """The type lists of integers went in as (int64 first; floats when int64 did not match); null: none."""


@typed_details
class KnownValuesDetails:
    function: str
    kind: FunctionKind
    rtol: float
    atol: float
    dtype: str
    matched: int
    """Cases whose every number is within tolerance."""
    cases: list[CaseResult]
