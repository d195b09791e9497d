"""check_dependencies' probes of the loss itself, at its defaults (batch and both modes):

Both run on a transition batch only: one holding a next-state key (its name contains "next": next_states,
next_obs, obs_next), the batch of a bootstrapped (TD) loss.
* bootstrap target: when loss_fn calls the model itself on the next states, the loss must have no gradient
  through that call's output: a TD target is a constant (computed under no_grad, detached, or from a frozen
  target network). One loss forward and a backward from the loss to that output only, shared with the next probe.
* batch keys: a TD loss needs every field of a transition (s, a, r, s', done). During that same forward a
  TorchFunctionMode records which batch tensors any torch function or tensor method touches (under no_grad
  too, where a gradient would not tell); a key never touched is never read by loss_fn (a terminal flag left
  out of the target). Other batches are not probed: they rightly carry keys only evaluate reads (an
  episode-start flag, an index).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from .dependencies_roles import elements
from .details import MechanismResult
from .findings import ERROR, WARNING, finding
from .harness import next_state_key

# Names of metadata a batch may carry for logging or evaluation only; the loss rightly never reads them.
METADATA = ("id", "ids", "index", "indices", "idx", "name", "names", "path", "paths", "meta", "metadata")


class Reads(TorchFunctionMode):
    """Records which of the watched tensors any torch function (or tensor method) is called on."""

    def __init__(self, watched: dict[Any, torch.Tensor]):
        super().__init__()
        self.key_of = {id(value): key for key, value in watched.items()}
        self.read: set[Any] = set()

    def _see(self, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            if id(value) in self.key_of:
                self.read.add(self.key_of[id(value)])
        elif isinstance(value, (tuple, list)):
            for item in value:
                self._see(item)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self._see(args)
        self._see(list((kwargs or {}).values()))
        return func(*args, **(kwargs or {}))


def _unread_finding(key: Any, value: torch.Tensor) -> dict[str, Any]:
    return finding(
        "unused_batch_key", WARNING,
        f"loss_fn never reads batch[{key!r}] (shape {tuple(value.shape)}): no torch operation of the loss touches it "
        "(in a transition batch: a terminal/done flag left out of the bootstrapped target, a reward or action unused)",
        where="loss_fn", evidence={"key": str(key)},
        suggestion=f"Use batch[{key!r}] where the paper's loss needs it (for a TD target: y = r + gamma * (1 - done) * "
        "max_a' Q_target(s', a')). If it is only for evaluation or logging, drop it from get_batch's batch. "
        "After fixing, call check_dependencies again.",
    )


def batch_keys(batch: Any, reads: Reads) -> tuple[list, list]:
    """(findings, results): every tensor of a transition batch must be read by the loss."""
    parts = {k: v for k, v in elements(batch).items() if isinstance(v, torch.Tensor) and str(k).lower() not in METADATA}
    results = [MechanismResult(probe="batch_key", subject=f"batch[{key!r}]", measured=True, relative=float(key in reads.read))
               for key in parts]
    return [_unread_finding(key, value) for key, value in parts.items() if key not in reads.read], results


def _calls_on(ctx, model: nn.Module, batch: Any, value: torch.Tensor, cost) -> tuple[torch.Tensor, list[torch.Tensor], Reads]:
    """(the loss, outputs of the model's top-level calls on `value`, which batch tensors the loss read), with gradients on."""
    outputs: list[torch.Tensor] = []

    def record(module, args, output):
        if args and args[0] is value and isinstance(output, torch.Tensor) and output.requires_grad:
            outputs.append(output)

    cost.forward_passes += 1
    torch.manual_seed(ctx.seed)
    handle = model.register_forward_hook(record)
    try:
        with torch.enable_grad(), Reads(elements(batch)) as reads:
            return ctx.harness.loss(model, batch), outputs, reads
    finally:
        handle.remove()


def bootstrap_target(key: Any, loss: torch.Tensor, outputs: list[torch.Tensor], threshold: float, cost):
    """(findings, results): the loss must have no gradient through the model's outputs on batch[key], the next states."""
    subject = f"model(batch[{key!r}])"
    if not outputs or not loss.requires_grad:  # never called on it with gradients: a target net or no_grad
        return [], [MechanismResult(probe="bootstrap_target", subject=subject, measured=True, relative=0.0)]
    cost.backward_calls += 1
    grads = torch.autograd.grad(loss, outputs, allow_unused=True)
    norm = max((float(g.double().norm()) for g in grads if g is not None), default=0.0)
    result = MechanismResult(probe="bootstrap_target", subject=subject, measured=True, relative=norm)
    if norm <= threshold:
        return [], [result]
    message = (f"the loss has a gradient through the model's output on batch[{key!r}] (norm {norm:.3g}): the bootstrapped "
               "(TD) target is not detached, so each update also moves the target it regresses to")
    suggestion = ("Compute the target under torch.no_grad() (or .detach() it), from the frozen target network: "
                  "y = r + gamma * (1 - done) * model.target(next_states).max(-1).values. After fixing, call "
                  "check_dependencies again.")
    return [finding("gradient_through_target", ERROR, message, where="loss_fn", evidence={"key": str(key), "norm": norm},
                    suggestion=suggestion)], [result]


def probe(ctx, model: nn.Module, batch: Any, threshold: float, cost) -> tuple[list, list]:
    key = next_state_key(batch)
    if key is None:
        return [], []
    loss, outputs, reads = _calls_on(ctx, model, batch, elements(batch)[key], cost)  # one forward for both probes
    findings, results = bootstrap_target(key, loss, outputs, threshold, cost)
    found, measured = batch_keys(batch, reads)
    return findings + found, results + measured
