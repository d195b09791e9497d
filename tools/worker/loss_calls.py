"""What a custom loss_fn computes: its classification-loss calls, seen while it runs.

A TorchFunctionMode sees each F.cross_entropy (nn.CrossEntropyLoss calls it), F.nll_loss and
F.binary_cross_entropy_with_logits call inside the user's loss_fn. Each call is run a second time
with uninformative predictions (zero logits; uniform log-probabilities for nll_loss) and the same
targets and options (label_smoothing, ignore_index, weight, reduction): that is the value an
untrained classifier should give, ln C per example whatever the smoothing or the ignored positions.
When the loss_fn's value is exactly the sum of these calls, their uniform values are the loss's
expected value at init; a loss with another term (a KL, a value loss) stays unchecked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

SAME_VALUE = 1e-4  # relative: the loss is these calls' sum, not a sum with another small term
# the options that change the loss's value, with their defaults (torch passes every keyword on): only the
# ones the user set are named
OPTIONS = {"label_smoothing": 0.0, "ignore_index": -100, "reduction": "mean"}


def _uniform_input(func: Any, logits: torch.Tensor) -> torch.Tensor:
    if func is F.nll_loss:  # log-probabilities over dim 1: uniform is -ln C everywhere
        classes = logits.shape[1] if logits.dim() > 1 else logits.shape[0]
        return torch.full_like(logits, -math.log(classes))
    return torch.zeros_like(logits)


@dataclass
class LossCall:
    """One classification-loss call: its value and the value it gives at uniform predictions."""

    name: str
    value: float
    uniform: float
    elements: int  # of its output: 1 unless reduction='none'
    options: dict[str, Any]


class LossCallRecorder(TorchFunctionMode):
    """Records each classification-loss call's value and its value at uniform predictions."""

    FUNCTIONS = (F.cross_entropy, F.nll_loss, F.binary_cross_entropy_with_logits)

    def __init__(self):
        super().__init__()
        self.calls: list[LossCall] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in self.FUNCTIONS and args and isinstance(args[0], torch.Tensor) and isinstance(out, torch.Tensor):
            with torch.no_grad():
                uniform = func(_uniform_input(func, args[0].detach()), *args[1:], **kwargs)
            # a reduction='none' call is summed here; a mean over it is rescaled in expected_value()
            self.calls.append(
                LossCall(
                    getattr(func, "__name__", "loss"),
                    float(out.detach().double().sum()),
                    float(uniform.double().sum()),
                    out.numel(),
                    {k: v for k, v in kwargs.items() if k in OPTIONS and v != OPTIONS[k]},
                )
            )
        return out


def expected_value(calls: list[LossCall], loss: float) -> tuple[float, str] | None:
    """(expected loss at init, where it comes from) when `loss` is the sum (or the mean) of the calls."""
    if not calls or not math.isfinite(loss):
        return None
    value, uniform = sum(c.value for c in calls), sum(c.uniform for c in calls)
    elements = sum(c.elements for c in calls)
    for scale in (1.0, 1.0 / elements):  # the calls' total, or a .mean() over a reduction='none' output
        if abs(loss - value * scale) <= SAME_VALUE * max(abs(loss), 1e-8):
            return uniform * scale, _source(calls)
    return None


def _source(calls: list[LossCall]) -> str:
    described = []
    for call in calls:
        options = ", ".join(f"{k}={v!r}" for k, v in call.options.items())
        described.append(f"{call.name}({options})" if options else call.name)
    return f"loss_fn's {' + '.join(described)} at uniform predictions"
