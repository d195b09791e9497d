"""check_dependencies mode "position": does the model use the order of its inputs?

Shuffle the first m positions of the input (along seq_dim) among themselves and leave the
rest in place. Without positional information, the outputs at positions >= m cannot
change: a bidirectional model sees the same set of tokens, and a causal one sees, at every
position >= m, the same prefix in another order, which it cannot tell apart. (A causal model
is *not* permutation-equivariant as a whole: shuffling the whole sequence changes which
tokens each prefix holds, so a plain full permutation would call a causal model without a
positional encoding fine; shuffling a prefix catches both kinds.) With any positional
encoding that reaches the model, the outputs after the prefix move by O(1).

A causal model is subtler still: from its second layer on it *can* tell order, because
each first-layer state already depends on its own prefix, so shuffled prefixes hand the
second layer a different set of states. Its final outputs move, but its first layer stays
blind. So every module's output is watched: if the first module whose output moves after
the prefix has an earlier twin (the same name with other layer numbers, `blocks.1.attn` /
`blocks.0.attn`) that did not move, the first layer saw no order and only the causal
mask's side effect gave the later ones any: that is no positional information as well.
A model with a positional encoding (added to the embeddings, or rotary/ALiBi inside
attention) moves at its first attention already.

When the output has no position axis of the input's length (an encoder-decoder checked on
its source, a pooled classifier), the whole output is compared instead.
Several prefixes (m = T-1, T/2, ...) and random shuffles are tried; shuffles that leave the
input unchanged (repeated tokens) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch

from ..wire.findings import ERROR, finding
from ..worker.failures import HarnessError
from .details import PositionResult

TRIALS = 4
# Float tolerance: the same sums taken in another order differ by a few ulps per layer;
# a positional encoding moves the outputs by O(1) relative. 1000 ulps sits between.
ULPS = 1000
MAX_TOLERANCE = 1e-2  # bfloat16's eps would allow everything otherwise


def _prefix_lengths(size: int) -> list[int]:
    return sorted({size - 1, max(2, size // 2), max(2, size - 2), 2})[-TRIALS:] if size > 3 else [2] * TRIALS


def _shuffle(size: int, prefix: int, generator: torch.Generator) -> torch.Tensor:
    """A permutation of 0..size-1 that moves the first `prefix` positions and fixes the rest."""
    order = torch.randperm(prefix, generator=generator)
    if torch.equal(order, torch.arange(prefix)):
        order = order.roll(1)
    return torch.cat([order, torch.arange(prefix, size)])


def _relative_change(base: torch.Tensor, changed: torch.Tensor) -> float:
    scale = base.abs().max().item()
    return (changed - base).abs().max().item() / scale if scale > 0 else (changed - base).abs().max().item()


def _tail(t: torch.Tensor, seq_dim: int, prefix: int) -> torch.Tensor:
    """The positions after the shuffled prefix."""
    return t.narrow(seq_dim, prefix, t.shape[seq_dim] - prefix)


Run = Callable[[torch.Tensor], tuple[torch.Tensor, list[tuple[str, str, torch.Tensor]]]]


def _layer_changes(base: list, shuffled: list, seq_dim: int, prefix: int, size: int) -> list[tuple[str, str, float]]:
    """(module name, type, relative change after the prefix) for each module output with the input's positions."""
    changes = []
    for (name, kind, before), (_, _, after) in zip(base, shuffled):
        if before.dim() > seq_dim and before.shape[seq_dim] == size and before.shape == after.shape:
            changes.append(
                (name, kind, _relative_change(_tail(before, seq_dim, prefix), _tail(after, seq_dim, prefix)))
            )
    return changes


def measure(run: Run, inputs: torch.Tensor, seq_dim: int, seed: int) -> dict[str, Any]:
    """Shuffle prefixes, compare the outputs after them (or the whole output), and each module's; one dict per trial."""
    size = inputs.shape[seq_dim]
    base, base_layers = run(inputs)
    per_position = base.dim() > seq_dim and base.shape[seq_dim] == size
    generator = torch.Generator().manual_seed(seed)
    trials: list[dict[str, Any]] = []
    layer_change: dict[tuple[str, str], float] = {}
    for prefix in _prefix_lengths(size):
        order = _shuffle(size, prefix, generator).to(inputs.device)
        shuffled = inputs.index_select(seq_dim, order)
        if torch.equal(shuffled, inputs):
            trials.append({"prefix": prefix, "skipped": "the shuffled input equals the original (repeated tokens)"})
            continue
        output, layers = run(shuffled)
        pair = (_tail(base, seq_dim, prefix), _tail(output, seq_dim, prefix)) if per_position else (base, output)
        trial = {"prefix": prefix, "change_after_prefix": _relative_change(*pair)}
        if per_position:  # moved with their tokens: full attention without position (else a causal model)
            moved = base.index_select(seq_dim, order).narrow(seq_dim, 0, prefix)
            trial["change_in_prefix_vs_moved"] = _relative_change(moved, output.narrow(seq_dim, 0, prefix))
            for name, kind, change in _layer_changes(base_layers, layers, seq_dim, prefix, size):
                layer_change[(name, kind)] = max(change, layer_change.get((name, kind), 0.0))
        trials.append(trial)
    changes = [{"module": name, "type": kind, "change": change} for (name, kind), change in layer_change.items()]
    return {"per_position": per_position, "trials": trials, "layers": changes, "dtype": base.dtype}


def _layer_pattern(name: str) -> str:
    return re.sub(r"\d+", "#", name)


def blind_first_layer(layers: list[dict[str, Any]], tolerance: float) -> tuple[str, str] | None:
    """(unchanged earlier twin, first module that changed) when order only appears after a blind first layer."""
    first = next((row for row in layers if row["change"] > tolerance), None)
    if first is None:
        return None
    pattern = _layer_pattern(first["module"])
    for row in layers[: layers.index(first)]:
        if (
            row["module"] != first["module"]
            and _layer_pattern(row["module"]) == pattern
            and row["type"] == first["type"]
        ):
            return row["module"], first["module"]
    return None


def check_positions(
    run: Run, inputs: torch.Tensor, seq_dim: int, seed: int
) -> tuple[dict[str, Any] | None, PositionResult, str]:
    """(no_positional_information finding or None, details, summary line)."""
    if inputs.dim() <= seq_dim or inputs.shape[seq_dim] < 3:
        raise HarnessError(
            f"position mode needs a sequence of 3 or more positions at seq_dim={seq_dim}, but the input has shape "
            f"{tuple(inputs.shape)}; pass the dimension that indexes positions as seq_dim",
            where="get_batch",
        )
    measured = measure(run, inputs, seq_dim, seed)
    dtype = measured.pop("dtype")
    tolerance = min(MAX_TOLERANCE, ULPS * torch.finfo(dtype).eps) if dtype.is_floating_point else 0.0
    done = [t for t in measured["trials"] if "skipped" not in t]
    layers = measured.pop("layers")
    details = PositionResult(
        **measured,
        tolerance=tolerance,
        largest_change=max((t["change_after_prefix"] for t in done), default=None),
        first_changed_module=next((row["module"] for row in layers if row["change"] > tolerance), None),
    )
    where = "positions after the shuffled prefix" if details.per_position else "the whole output"
    if not done:
        return None, details, "position: not tested, every shuffle left the input unchanged (repeated tokens)"
    if details.largest_change <= tolerance:
        line = f"position: NO positional information ({where} unchanged)"
        return _no_position_finding(details, done, where, None), details, line
    blind = blind_first_layer(layers, tolerance)
    if blind:
        details.blind_first_layer = blind[0]
        return (
            _no_position_finding(details, done, where, blind),
            details,
            f"position: NO positional information in `{blind[0]}`",
        )
    moved = details.largest_change
    return None, details, f"position: order matters (shuffling a prefix moved {where} by up to {moved:.3g} relative)"


def _no_position_finding(
    details: PositionResult, done: list[dict[str, Any]], where: str, blind: tuple[str, str] | None
) -> dict[str, Any]:
    if blind:
        message = (
            f"shuffling the input's first positions left the output of `{blind[0]}` unchanged after the prefix, while "
            f"its twin `{blind[1]}` moved: the first layer sees each prefix as a bag of tokens, and order reaches the "
            "later layers only through the causal mask's side effect (each first-layer state depends on its own "
            "prefix): no positional encoding reaches the model"
        )
        return _position_finding(message, blind[0], details, done)
    equivariant = all(t.get("change_in_prefix_vs_moved", 1.0) <= details.tolerance for t in done)
    if not details.per_position:
        kind = "the output ignores the order of this input (attention over it as a set: an encoder with no positions)"
    elif equivariant:
        kind = "the shuffled positions' outputs moved with their tokens: the model is permutation-equivariant (full "
        kind += "attention with no positional encoding)"
    else:
        kind = (
            "each position sees its prefix as a bag of tokens (a causal mask tells how long the prefix is, "
            "not its order)"
        )
    message = (
        f"shuffling the input's first positions left {where} unchanged (largest relative change "
        f"{details.largest_change:.2g} over {len(done)} shuffle(s), tolerance {details.tolerance:.2g}): no "
        f"positional information reaches the model; {kind}"
    )
    return _position_finding(message, "the model's embedding", details, done)


def _position_finding(message: str, where: str, details: PositionResult, done: list[dict[str, Any]]) -> dict[str, Any]:
    return finding(
        "no_positional_information",
        ERROR,
        message,
        where=where,
        evidence={"trials": done, "tolerance": details.tolerance, "first_changed_module": details.first_changed_module},
        suggestion="Add the positional encoding: it is missing, or computed but never added (x = tok_emb(idx) with "
        "pos_emb(...) assigned to a variable nothing uses, or added to a copy), or added after the attention it "
        "should inform. Sinusoidal or learned, it is summed with the token embedding before the first layer. After "
        "fixing, call check_dependencies with mode='position' again.",
    )
