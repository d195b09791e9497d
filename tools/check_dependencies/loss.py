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
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
from torch.overrides import TorchFunctionMode

from ..wire.findings import ERROR, WARNING, finding
from ..worker.harness import next_state_key
from .details import MechanismResult
from .forward import reseed
from .roles import elements

DISCOUNT_SHIFT = 0.1  # small: the loss's change is compared with its slope along the shift
DISCOUNT_INVARIANT = (
    1e-5  # gamma = 0.99 moves the loss by ~1e-2 of the states-only shift, 0.9999 by ~1e-4; rounding ~1e-7
)
# Words of the keys a transition batch may carry for bookkeeping only, which a correct TD loss rightly never reads:
# ids and indices (prioritised replay updates priorities in train_step), episode and time counters, and the
# truncation flag (a time-limit cut is no terminal: bootstrapping through it is right, so the target ignores it).
METADATA = frozenset(
    {
        "id",
        "ids",
        "index",
        "indices",
        "idx",
        "name",
        "names",
        "path",
        "paths",
        "meta",
        "metadata",
        "info",
        "infos",
        "episode",
        "episodes",
        "time",
        "timestep",
        "timesteps",
        "truncated",
        "truncation",
        "truncations",
        "timeout",
        "timeouts",
    }
)


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
        "unused_batch_key",
        WARNING,
        f"loss_fn never reads batch[{key!r}] (shape {tuple(value.shape)}): no torch operation of the loss touches it "
        "(in a transition batch: a terminal/done flag left out of the bootstrapped target, a reward or action unused)",
        where="loss_fn",
        evidence={"key": str(key)},
        suggestion=f"Use batch[{key!r}] where the paper's loss needs it (for a TD target: y = r + gamma * (1 - done) * "
        "max_a' Q_target(s', a')). If it is only for evaluation or logging, drop it from get_batch's batch. "
        "After fixing, call check_dependencies again.",
    )


def batch_keys(batch: Any, reads: Reads) -> tuple[list, list]:
    """(findings, results): every tensor of a transition batch must be read by the loss."""
    parts = {
        k: v
        for k, v in elements(batch).items()
        if isinstance(v, torch.Tensor) and not METADATA & set(str(k).lower().replace("-", "_").split("_"))
    }
    results = [
        MechanismResult(probe="batch_key", subject=f"batch[{key!r}]", measured=True, relative=float(key in reads.read))
        for key in parts
    ]
    return [_unread_finding(key, value) for key, value in parts.items() if key not in reads.read], results


def _calls_on(ctx, model: nn.Module, batch: Any, watched: dict[str, torch.Tensor], cost):
    """(the loss, {name: outputs of the model's top-level calls on watched[name]}, which batch tensors the loss read),
    in one forward with gradients on."""
    outputs: dict[str, list[torch.Tensor]] = {name: [] for name in watched}

    def record(module, args, output):
        for name, value in watched.items():
            if args and args[0] is value and isinstance(output, torch.Tensor) and output.requires_grad:
                outputs[name].append(output)

    cost.forward_passes += 1
    reseed(ctx.seed)
    handle = model.register_forward_hook(record)
    try:
        with torch.enable_grad(), Reads(elements(batch)) as reads:
            return ctx.harness.loss(model, batch), outputs, reads
    finally:
        handle.remove()


def _gradients(loss: torch.Tensor, outputs: dict[str, list[torch.Tensor]], cost) -> dict[str, tuple[float, float]]:
    """{name: (norm of d loss / d those outputs, sum of its entries)}: one backward from the loss to the outputs
    only."""
    flat = [(name, output) for name, items in outputs.items() for output in items]
    found = {name: (0.0, 0.0) for name in outputs}
    if not flat or not loss.requires_grad:
        return found
    cost.backward_calls += 1
    for (name, _), grad in zip(flat, torch.autograd.grad(loss, [o for _, o in flat], allow_unused=True)):
        if grad is not None:
            norm, total = found[name]
            found[name] = (max(norm, float(grad.double().norm())), total + float(grad.double().sum()))
    return found


def bootstrap_target(key: Any, norm: float, threshold: float):
    """(findings, results): the loss must have no gradient through the model's outputs on batch[key], the next
    states."""
    result = MechanismResult(probe="bootstrap_target", subject=f"model(batch[{key!r}])", measured=True, relative=norm)
    if norm <= threshold:  # never called on it with gradients: a target net, or under no_grad
        return [], [result]
    message = (
        f"the loss has a gradient through the model's output on batch[{key!r}] (norm {norm:.3g}): the bootstrapped "
        "(TD) target is not detached, so each update also moves the target it regresses to"
    )
    suggestion = (
        "Compute the target under torch.no_grad() (or .detach() it), from the frozen target network: "
        "y = r + gamma * (1 - done) * model.target(next_states).max(-1).values. After fixing, call "
        "check_dependencies again."
    )
    return [
        finding(
            "gradient_through_target",
            ERROR,
            message,
            where="loss_fn",
            evidence={"key": str(key), "norm": norm},
            suggestion=suggestion,
        )
    ], [result]


class Shift:
    """Adds `delta` to the output of the outermost modules called on one of the watched tensors (the Q-values of
    the states, or of the next states, wherever the loss computes them: the online net, a target net)."""

    def __init__(self, model: nn.Module, watched: list[torch.Tensor], delta: float):
        self.ids, self.delta, self.open = {id(t) for t in watched}, delta, 0
        self.stack: list[bool] = []
        self.mine = {id(m) for m in model.modules()}
        # global hooks: two registrations, not two per module (the per-module ones cost more than a small forward)
        self.handles = [register_module_forward_pre_hook(self.enter), register_module_forward_hook(self.leave)]

    def enter(self, module, args):
        hit = id(module) in self.mine and bool(args) and id(args[0]) in self.ids
        self.stack.append(hit)
        self.open += hit

    def leave(self, module, args, output):
        if not self.stack.pop():
            return None
        self.open -= 1
        return output + self.delta if self.open == 0 and isinstance(output, torch.Tensor) else None

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def _shifted_loss(ctx, model: nn.Module, batch: Any, watched: list[torch.Tensor], delta: float, cost) -> float:
    shift = Shift(model, watched, delta)
    try:
        cost.forward_passes += 1
        reseed(ctx.seed)
        with torch.no_grad():
            return float(ctx.harness.loss(model, batch).double())
    finally:
        shift.close()


def discount(ctx, model: nn.Module, batch: Any, keys: tuple[Any, Any], base: float, slope: float, cost):
    """(findings, results): adding one constant to every Q-value, of the states and of the next states alike, moves a
    TD loss by about (1 - gamma) of what it moves when only the states' Q-values move (`slope`: the loss's gradient
    along that shift, from the shared backward); a loss it leaves unchanged has a discount of 1 and no terminal in
    the batch: nothing anchors the Q-values' level. One loss forward."""
    if abs(slope) <= 1e-12:  # the loss is flat along this direction (or never sees the states' Q-values): no verdict
        return [], [
            MechanismResult(
                probe="discount",
                subject="Q-values shifted",
                measured=False,
                note="the loss has no gradient along a shift of the states' Q-values",
            )
        ]
    parts = elements(batch)
    delta = DISCOUNT_SHIFT
    try:
        both = _shifted_loss(ctx, model, batch, [parts[keys[0]], parts[keys[1]]], delta, cost) - base
    except Exception as error:
        return [], [
            MechanismResult(probe="discount", subject="Q-values shifted", measured=False, note=f"{error}"[:200])
        ]
    relative = abs(both) / abs(slope * delta)
    result = MechanismResult(probe="discount", subject="Q-values shifted", measured=True, relative=relative)
    if relative > DISCOUNT_INVARIANT:
        return [], [result]
    message = (
        f"the loss does not change when the same constant is added to every Q-value, of batch[{keys[0]!r}] and "
        f"batch[{keys[1]!r}] alike (relative change {relative:.2g} of what it is when only the first move): the "
        "bootstrapped target has a discount of 1 and this batch no terminal, so nothing anchors the level of the "
        "Q-values and they can grow without bound"
    )
    suggestion = (
        "Check gamma in the TD target (the paper's is below 1, e.g. 0.99): y = r + gamma * (1 - done) * "
        "max_a' Q_target(s', a'). A discount of 1 is sound only where every episode ends. After fixing, call "
        "check_dependencies again."
    )
    return [
        finding(
            "undiscounted_target",
            WARNING,
            message,
            where="loss_fn",
            evidence={"relative": relative},
            suggestion=suggestion,
        )
    ], [result]


def probe(ctx, model: nn.Module, batch: Any, input_key: Any, threshold: float, cost) -> tuple[list, list]:
    """Every probe of a transition batch, from one loss forward and one backward to the Q-values (and one shifted
    forward for the discount)."""
    key = next_state_key(batch)
    if key is None:
        return [], []
    parts = elements(batch)
    watched = {"next": parts[key]} | ({"states": parts[input_key]} if input_key in parts else {})
    loss, outputs, reads = _calls_on(ctx, model, batch, watched, cost)
    gradients = _gradients(loss, outputs, cost)
    findings, results = bootstrap_target(key, gradients["next"][0], threshold)
    found, measured = batch_keys(batch, reads)
    findings, results = findings + found, results + measured
    if "states" in watched and not findings:  # a target with a gradient or a missing key is the bug to fix first
        base = float(loss.detach().double())
        found, measured = discount(ctx, model, batch, (input_key, key), base, gradients["states"][1], cost)
        findings, results = findings + found, results + measured
    return findings, results
