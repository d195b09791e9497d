"""Finding the first operation that turns a finite computation into NaN/Inf.

Forward: hooks on every module record, in execution order, the first module whose
inputs were finite and whose output is not. Backward: anomaly mode names the autograd
function that first returned a non-finite gradient. Both are slow, so they run only
after a plain step has already shown a non-finite value.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import nn


def tensors(value: Any) -> list[torch.Tensor]:
    """Every tensor in a (nested) tuple, list or dict."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in tensors(item)]
    return []


def _finite(value: Any) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors(value) if t.is_floating_point() or t.is_complex())


def first_non_finite_module(model: nn.Module, run_forward) -> tuple[str, str] | None:
    """(module name, module type) of the first module producing NaN/Inf from finite inputs.

    `run_forward()` runs the forward pass (and may compute the loss) under these hooks."""
    culprit: list[tuple[str, str]] = []

    def hook(name: str):
        def record(module: nn.Module, inputs: Any, output: Any) -> None:
            if not culprit and _finite(inputs) and not _finite(output):
                culprit.append((name or "<model>", type(module).__name__))

        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules()]
    try:
        with torch.no_grad():
            run_forward()
    finally:
        for handle in handles:
            handle.remove()
    return culprit[0] if culprit else None


def first_non_finite_backward(loss_fn) -> str | None:
    """Name of the autograd function (e.g. `LogBackward0`) that first returned NaN, if any.

    `loss_fn()` builds the loss afresh; anomaly mode needs the forward recorded under it."""
    try:
        with torch.autograd.detect_anomaly(check_nan=True):
            loss = loss_fn()
            loss.backward()
    except RuntimeError as exc:
        match = re.search(r"Function '(\w+)' returned nan", str(exc))
        return match.group(1) if match else None
    return None


def locate(model: nn.Module, forward_loss) -> dict[str, Any]:
    """Where a non-finite loss or gradient comes from, for `forward_loss() -> loss`.

    Returns {"where": str | None, "stage": "forward" | "loss" | "backward" | None, "op": str | None}."""
    module = first_non_finite_module(model, forward_loss)
    if module is not None:
        name, kind = module
        return {"where": name, "stage": "forward", "op": kind}
    with torch.no_grad():
        loss = forward_loss()
    if not _finite(loss):
        return {"where": "loss_fn", "stage": "loss", "op": None}
    model.zero_grad(set_to_none=True)
    op = first_non_finite_backward(forward_loss)
    model.zero_grad(set_to_none=True)
    if op is not None:
        return {"where": op, "stage": "backward", "op": op}
    return {"where": None, "stage": None, "op": None}
