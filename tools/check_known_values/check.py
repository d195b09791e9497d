"""check_known_values, worker side: call one harness function on hand-worked cases and compare.

JSON lists of numbers become tensors (floats in the requested type, booleans bool, integers
int64 so that actions and targets can index, and floats on a second try when that case does
not match: JSON cannot tell 1 from 1.0), numbers stay numbers.
The output is walked alongside the expected value: a tensor, number or list of numbers is
compared element by element in float64 (shapes must agree exactly: a (B, 1) against a (B,)
is the broadcasting bug this check exists to catch), a tuple or list element by element, a
dict key by key over the keys the case gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from ..wire.details import FunctionKind
from ..wire.findings import ERROR, finding, sort_findings
from ..wire.messages import KnownValuesRequest
from ..worker.failures import HarnessError
from ..worker.harness import defined_callables
from ..worker.job import JobContext, seed_everything
from .details import CaseResult, KnownValuesDetails, WorstElement

SHOWN_ELEMENTS = 64  # of an output in details and evidence; larger tensors show their shape and first values
PATTERN_TOL = 1e-6  # relative spread under which a ratio or offset counts as constant


# ---------------------------------------------------------------- inputs


def _as_tensor(value: Any, dtype: torch.dtype | None = None) -> torch.Tensor | None:
    """A rectangular list of numbers as a tensor; None for ragged lists or lists of other things."""
    try:
        return torch.tensor(value, dtype=dtype)
    except (TypeError, ValueError, RuntimeError):
        return None


@dataclass
class Conversion:
    """How JSON arguments become tensors. JSON cannot tell 1 from 1.0 (JavaScript clients write 1.0 as 1),
    so a list of integers may be indices (actions, targets) or real values (rewards): `integers` says which."""

    floats: torch.dtype
    integers: torch.dtype
    device: torch.device
    saw_integers: bool = False  # a list of integers was converted: the other reading may be the intended one

    def tensor(self, value: list) -> torch.Tensor | None:
        tensor = _as_tensor(value)
        if tensor is None:
            return None
        if tensor.is_floating_point():  # built again from the JSON numbers: no float32 rounding before float64
            return torch.tensor(value, dtype=self.floats, device=self.device)
        if tensor.dtype != torch.bool:
            self.saw_integers = True
            return tensor.to(self.device, self.integers)
        return tensor.to(self.device)

    def input(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"tensor", "dtype"}:  # an explicit type, checked by the server
            return torch.tensor(value["tensor"], dtype=getattr(torch, value["dtype"]), device=self.device)
        if isinstance(value, dict):
            return {key: self.input(item) for key, item in value.items()}
        if isinstance(value, list):
            tensor = self.tensor(value)
            return tensor if tensor is not None else [self.input(item) for item in value]
        return value


def _resolve(ctx: JobContext, name: str, device: torch.device, dtype: torch.dtype) -> tuple[Callable, FunctionKind]:
    """(callable, kind) for the harness attribute `name`."""
    target = ctx.harness.named(name, "function")
    if isinstance(target, type) and issubclass(target, torch.autograd.Function):
        return target.apply, "autograd.Function"
    if isinstance(target, type) and issubclass(target, nn.Module):
        try:
            return target().to(device=device, dtype=dtype).eval(), "nn.Module"  # eval: no dropout noise
        except TypeError as exc:
            raise HarnessError(
                f"{name}() cannot be built without arguments ({exc}); name a function that builds and calls it",
                where=name,
            ) from exc
    if callable(target):
        return target, "function"
    raise HarnessError(
        f"{name!r} is a {type(target).__name__}, not a callable: name a function of the harness",
        where=name,
        suggestion=f"Defined functions: {', '.join(defined_callables(ctx.harness.module)) or 'none'}.",
    )


# ---------------------------------------------------------------- comparing


@dataclass
class Leaf:
    """One tensor-like part of the output, paired with its expected value (both float64, CPU)."""

    at: str
    got: torch.Tensor
    expected: torch.Tensor


@dataclass
class Pairing:
    leaves: list[Leaf] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # shapes or structure that differ


def _is_numeric(value: Any) -> bool:
    """A tensor, a number, or a rectangular list of plain numbers (not a tuple of tensors: that is a structure)."""
    if isinstance(value, (torch.Tensor, int, float)):
        return True
    return (
        isinstance(value, (list, tuple))
        and not any(isinstance(item, torch.Tensor) for item in value)
        and _as_tensor(list(value)) is not None
    )


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"{type(value).__name__} {value!r:.40}"


def _pair(got: Any, expected: Any, at: str, pairing: Pairing) -> None:
    """Walk the output and the expected value together, collecting leaves and differences."""
    differs = f"{at} is {_describe(got)}, the expected value {_describe(expected)}"
    if isinstance(got, dict):
        if not isinstance(expected, dict):
            pairing.problems.append(differs)
            return
        for key, item in expected.items():
            if key not in got:
                pairing.problems.append(f"{at} has no key {key!r} (keys: {sorted(map(str, got))})")
            else:
                _pair(got[key], item, f"{at}[{key!r}]", pairing)
    elif got is None or expected is None:
        if got is not expected:
            pairing.problems.append(differs)
    elif _is_numeric(got):
        if isinstance(expected, dict):
            pairing.problems.append(differs)
        else:
            _pair_numbers(got, expected, at, pairing)
    elif isinstance(got, (list, tuple)):
        if not isinstance(expected, list) or len(expected) != len(got):
            pairing.problems.append(differs)
            return
        for i, (item, want) in enumerate(zip(got, expected)):
            _pair(item, want, f"{at}[{i}]", pairing)
    else:
        raise HarnessError(
            f"{at} is {_describe(got)}: it cannot be compared with a JSON value; return tensors, numbers, "
            "or tuples, lists and dicts of them",
            where=at,
        )


def _pair_numbers(got: Any, expected: Any, at: str, pairing: Pairing) -> None:
    got_t = got.detach().to("cpu", torch.float64) if isinstance(got, torch.Tensor) else _as_tensor(got, torch.float64)
    # float64 straight from the JSON numbers: a float32 detour would round 4.7683 by 2e-7
    want = _as_tensor(expected, torch.float64)
    if want is None:
        pairing.problems.append(
            f"{at} is {_describe(got)}, the expected value {_describe(expected)} (not a rectangular list of numbers)"
        )
    elif want.shape != got_t.shape:
        pairing.problems.append(f"{at} has shape {tuple(got_t.shape)}, the expected value shape {tuple(want.shape)}")
    else:
        pairing.leaves.append(Leaf(at, got_t, want))


def _index(flat: int, shape: torch.Size) -> str:
    if not shape:
        return ""
    index = torch.unravel_index(torch.tensor(flat), shape)
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _compare(leaves: list[Leaf], rtol: float, atol: float) -> dict[str, Any]:
    """Elements compared and outside tolerance, the largest error, and the worst element:
    the one furthest outside its tolerance (NaN/Inf first), so mixed scales rank fairly."""
    stats: dict[str, Any] = {"elements": 0, "mismatched": 0, "max_abs_error": 0.0, "worst": None}
    worst_score = -1.0
    for leaf in leaves:
        error = (leaf.got - leaf.expected).abs()
        error = torch.where(torch.isfinite(error), error, torch.full_like(error, float("inf")))
        allowed = atol + rtol * leaf.expected.abs()
        score = error / allowed.clamp_min(1e-300)
        stats["elements"] += error.numel()
        stats["mismatched"] += int((error > allowed).sum())
        if error.numel() == 0:
            continue
        stats["max_abs_error"] = max(stats["max_abs_error"], float(error.max()))
        flat = int(score.reshape(-1).argmax())
        if float(score.reshape(-1)[flat]) > worst_score:
            worst_score = float(score.reshape(-1)[flat])
            want, got, err = (float(t.reshape(-1)[flat]) for t in (leaf.expected, leaf.got, error))
            stats["worst"] = WorstElement(
                at=leaf.at + _index(flat, leaf.got.shape),
                expected=want,
                got=got,
                abs_error=err,
                rel_error=err / abs(want) if want else None,
            )
    return stats


def pattern(leaves: list[Leaf]) -> str | None:
    """A simple relation between output and expected value, when one holds over every element:
    it names the bug more directly than the numbers (mean for sum, a missing term, time reversed)."""
    if not leaves:
        return None
    got = torch.cat([leaf.got.reshape(-1) for leaf in leaves])
    want = torch.cat([leaf.expected.reshape(-1) for leaf in leaves])
    # Equal expected values fit any constant ratio or offset: they say nothing about the cause.
    if got.numel() < 2 or not bool(torch.isfinite(got).all()) or want.unique().numel() < 2:
        return None
    scale = float(want.abs().max()) or 1.0
    only = leaves[0]
    if (
        len(leaves) == 1
        and only.got.dim() >= 1
        and torch.allclose(only.got.flip(-1), only.expected, rtol=1e-6, atol=1e-9 * scale)
    ):
        return "the output is the expected value reversed along its last dim: a loop over time that runs the wrong way"
    return _scale(got, want, scale) or _offset(got, want, scale) or _affine(got, want, scale)


def _scale(got: torch.Tensor, want: torch.Tensor, scale: float) -> str | None:
    """A constant ratio over the nonzero expected values (at least two), with the zeros still zero: the
    whole expression is scaled, e.g. a missing 0.5. Zeros (a return after the episode, the KL of the
    prior itself) do not hide it."""
    nonzero = want != 0
    if int(nonzero.sum()) < 2 or float(got[~nonzero].abs().sum()) > PATTERN_TOL * scale:
        return None
    ratio = got[nonzero] / want[nonzero]
    if float(ratio.std()) <= PATTERN_TOL * float(ratio.abs().mean()) and abs(float(ratio.mean()) - 1) > PATTERN_TOL:
        return (
            f"every element is {float(ratio.mean()):.6g}x the expected value: "
            "a scale factor (mean vs sum, a missing 0.5, 1/N or 1/sqrt(d))"
        )
    return None


def _offset(got: torch.Tensor, want: torch.Tensor, scale: float) -> str | None:
    """A constant difference (and no constant ratio): a term with the same value in every element is
    missing, extra or weighted wrong; the numbers alone cannot tell which."""
    offset = got - want
    if float(offset.std()) <= PATTERN_TOL * scale and abs(float(offset.mean())) > PATTERN_TOL * scale:
        return (
            f"every element is off by the same {float(offset.mean()):.6g} "
            "(the difference is constant, the ratio is not): a "
            "constant term missing or extra (0.5*log(2*pi), a +1), or a wrong coefficient on a term "
            "that has the same value "
            "in every element checked; add a case where that term varies to tell which"
        )
    return None


def _affine(got: torch.Tensor, want: torch.Tensor, scale: float) -> str | None:
    """got = a * expected + b exactly, with a != 1 and b != 0: a scale and an offset both (a coefficient wrong
    on the part that varies, and a constant term off), e.g. 2 * KL written without its 0.5 and its +1."""
    if want.numel() < 3:
        return None
    want, got = want.double().cpu(), got.double().cpu()
    design = torch.stack([want, torch.ones_like(want)], dim=1)
    a, b = (float(v) for v in torch.linalg.lstsq(design, got.unsqueeze(1)).solution.reshape(-1))
    residual = float((got - (a * want + b)).abs().max())
    if residual > PATTERN_TOL * scale or abs(a - 1) <= PATTERN_TOL or abs(b) <= PATTERN_TOL * scale:
        return None
    return (
        f"every element is {a:.6g}x the expected value {'+' if b > 0 else '-'} {abs(b):.6g}: "
        "a wrong coefficient on the "
        "part that varies between elements and a constant term off as well"
    )


def _shown(value: Any) -> Any:
    """The output as JSON, small: large tensors as their shape and first values."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.numel() <= SHOWN_ELEMENTS:
            return value.tolist()
        return {"shape": list(value.shape), "first": value.reshape(-1)[:16].tolist()}
    if isinstance(value, dict):
        return {str(key): _shown(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown(item) for item in value[:SHOWN_ELEMENTS]]
    return value if value is None or isinstance(value, (int, float, bool)) else repr(value)[:200]


# ---------------------------------------------------------------- one case, and the run


def _judge(got: Any, expected: Any, index: int, ctx: JobContext) -> CaseResult:
    pairing = Pairing()
    _pair(got, expected, "output", pairing)
    stats = _compare(pairing.leaves, ctx.req.rtol, ctx.req.atol)
    wrong = pairing.problems or stats["mismatched"]
    return CaseResult(
        case=index,
        verdict="mismatch" if wrong else "match",
        **stats,
        problem="; ".join(pairing.problems) or None,
        pattern=pattern(pairing.leaves) if stats["mismatched"] and not pairing.problems else None,
        got=_shown(got),
    )


def _attempt(
    fn: Callable, case: dict[str, Any], index: int, ctx: JobContext, conversion: Conversion
) -> CaseResult | Exception:
    try:
        args = [conversion.input(value) for value in case["args"]]
        kwargs = {key: conversion.input(value) for key, value in case["kwargs"].items()}
        seed_everything(ctx.seed)  # a function that draws noise gives the same draw whatever the case order
        result = _judge(fn(*args, **kwargs), case["expected"], index, ctx)
    except Exception as exc:  # one case raising must not hide the others
        return exc
    # the dtype integer lists went in as: one of the names the field allows
    result.integer_lists = str(conversion.integers).removeprefix("torch.") if conversion.saw_integers else None  # type: ignore[assignment]
    return result


def _run_case(
    fn: Callable, case: dict[str, Any], index: int, ctx: JobContext, device: torch.device
) -> CaseResult | Exception:
    """The case's result, or the exception it raised. Lists of integers go in as int64 first (indices:
    actions, targets); when that does not match, the case runs again with them as floats. Indices read as
    floats make torch raise (gather, cross_entropy, indexing), so a float reading that runs is kept: the
    integers were values (rewards, dones)."""
    floats = getattr(torch, ctx.req.dtype)
    as_indices = Conversion(floats, torch.int64, device)
    outcome = _attempt(fn, case, index, ctx, as_indices)
    if not as_indices.saw_integers or (isinstance(outcome, CaseResult) and outcome.verdict == "match"):
        return outcome
    retry = _attempt(fn, case, index, ctx, Conversion(floats, floats, device))
    return retry if isinstance(retry, CaseResult) else outcome


def _integer_note(reading: str | None) -> str:
    if reading is None:
        return ""
    return (
        f" Lists of integers were tried as int64 and as floats and matched neither way (shown: the {reading} "
        'reading); give a tensor\'s type explicitly: {"tensor": [1, 0, 2], "dtype": "float64"} (or "int64").'
    )


def _mismatch_finding(name: str, result: CaseResult, case: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    where = f"{name} (case {result.case})"
    evidence = {
        "case": result.case,
        "expected": case["expected"],
        "got": result.got,
        "integer_lists": result.integer_lists,
    }
    note = _integer_note(result.integer_lists)
    if result.problem:
        return finding(
            "known_value_mismatch",
            ERROR,
            f"{name} case {result.case}: {result.problem}",
            where=where,
            evidence=evidence,
            suggestion="A shape that differs is a bug even when the numbers look right: (B, 1) against (B,) "
            "broadcasts to (B, B) in the next subtraction. Squeeze or reshape the output (or fix the expected "
            "value), then call check_known_values again." + note,
        )
    worst = result.worst
    got = "NaN/Inf" if worst.abs_error == float("inf") else f"{worst.got:.6g}"
    message = (
        f"{name} case {result.case}: {worst.at} is {got}, expected {worst.expected:.6g} "
        f"(abs error {worst.abs_error:.3g}; {result.mismatched} of {result.elements} element(s) outside "
        f"atol {ctx.req.atol:g} + rtol {ctx.req.rtol:g} * |expected|)"
    )
    if result.pattern:
        message += f"; {result.pattern}"
    return finding(
        "known_value_mismatch",
        ERROR,
        message,
        where=where,
        evidence={
            **evidence,
            "worst": asdict(worst),
            "mismatched": result.mismatched,
            "elements": result.elements,
            "pattern": result.pattern,
        },
        suggestion="Work this case by hand once more, then look at the usual suspects: a loop over time run the "
        "wrong way (returns and GAE run backward from the last step, reset at dones), exp vs log "
        "(std = exp(0.5 * logvar)), a sign, gather/log_softmax along the wrong dim (log-probabilities of other "
        "actions), mean vs sum. If the expected values are rounded by hand, raise rtol/atol instead." + note,
    )


def run(ctx: JobContext[KnownValuesRequest]) -> dict[str, Any]:
    name = ctx.req.function
    device = torch.device("cpu") if ctx.device.type == "mps" else ctx.device  # MPS has no float64
    fn, kind = _resolve(ctx, name, device, getattr(torch, ctx.req.dtype))
    cases, results, findings = ctx.req.cases, [], []
    for index, case in enumerate(cases):
        ctx.progress(index, len(cases), f"case {index}")
        result = _run_case(fn, case, index, ctx, device)
        if isinstance(result, Exception):
            found = ctx.error_finding(result, during=f"running {name} on case {index}")
            findings.append(found)
            results.append(CaseResult(case=index, verdict="error", problem=found["message"]))
            continue
        results.append(result)
        if result.verdict == "mismatch":
            findings.append(_mismatch_finding(name, result, case, ctx))
    matched = sum(r.verdict == "match" for r in results)
    details = KnownValuesDetails(
        function=name,
        kind=kind,
        rtol=ctx.req.rtol,
        atol=ctx.req.atol,
        dtype=ctx.req.dtype,
        matched=matched,
        cases=results,
    )
    summary = f"{matched} of {len(cases)} cases match"
    findings = sort_findings(findings)
    if findings:
        summary += f"; first problem: {findings[0]['message']}"
    else:
        largest = max(r.max_abs_error for r in results)
        summary += (
            f": {name} gives the hand-worked values (largest abs error {largest:.2g}; "
            f"rtol {ctx.req.rtol:g}, atol {ctx.req.atol:g})."
        )
    return {"summary": summary, "findings": findings, "details": asdict(details)}
