"""inspect_data's mechanism checks on a batch: randomness shared across its examples, and an input
that carries its own target.

Both read only what get_batch returns (no model): a noise draw that every example shares, and a
masked-LM input whose supervised positions still hold the token they are asked to predict. Each
is built to stay silent on the legitimate look-alikes: a positional table or schedule repeated
per example is the same in every batch (noise is not); a next-token LM's targets are shifted
inputs, an autoencoder supervises every position, and a causal LM whose loss shifts the labels
supervises padding-free spans (a response), not a scattered selection of positions.
"""

from __future__ import annotations

from typing import Any

import torch

from ..wire.findings import WARNING, finding

LEAK_FRACTION = 0.9  # input equals target at this share of the supervised positions: the target is visible
SCATTERED_ROWS = 0.1  # at least this share of rows supervise 2+ separate runs: a selection, not a span
SHORT_RUNS = 3.0  # supervised runs this long on average at most: single positions, not responses


def _rows_equal(tensor: torch.Tensor) -> bool:
    """Every example (row along dim 0) is byte-equal to the first."""
    return bool(torch.equal(tensor, tensor[:1].expand_as(tensor)))


def shared_rows(batch_leaves: list[tuple[str, Any]], inputs: torch.Tensor) -> dict[str, torch.Tensor]:
    """path -> the one row of each float tensor of 2+ dims that every example of the batch repeats,
    when that row is not itself constant and the examples' inputs differ (a batch of one example
    repeated is not a shared draw)."""
    if len(inputs) < 2 or _rows_equal(inputs.detach().cpu()):
        return {}
    found = {}
    for path, leaf in batch_leaves:
        if not (isinstance(leaf, torch.Tensor) and leaf.is_floating_point()) or leaf is inputs:
            continue
        if leaf.dim() < 2 or len(leaf) != len(inputs) or leaf[0].numel() < 2:
            continue
        values = leaf.detach().cpu()
        row = values[0]
        if _rows_equal(values) and bool(torch.isfinite(row).all()) and bool((row != row.reshape(-1)[0]).any()):
            found[path] = row
    return found


def shared_noise_findings(shared: dict[str, dict[str, torch.Tensor]]) -> list[dict[str, Any]]:
    """shared: split -> path -> shared row. A row repeated across one batch's examples that is a
    different row in another split's batch is a random draw made once per batch: noise meant per example."""
    findings = []
    splits = list(shared)
    for path in sorted({p for rows in shared.values() for p in rows}):
        seen = [(split, shared[split][path]) for split in splits if path in shared[split]]
        differs = any(not torch.equal(a, b) for (_, a), (_, b) in zip(seen, seen[1:]) if a.shape == b.shape)
        if len(seen) < 2 or not differs:
            continue  # the same table in every batch: positions, a schedule, a fixed code
        shown = ", ".join(f"{v:.3g}" for v in seen[0][1].reshape(-1)[:4].tolist())
        findings.append(
            finding(
                "noise_shared_across_batch",
                WARNING,
                f"{path} holds one draw shared by every example of the batch ({shown}, ... in each row of "
                f"{seen[0][0]}), and a different draw in {seen[1][0]}: a random tensor drawn once and broadcast, "
                "so the examples are not independent (noise, a mask or a timestep meant per example)",
                where=path,
                evidence={"splits": [split for split, _ in seen], "row_shape": list(seen[0][1].shape)},
                suggestion="Draw it with the batch size as its first dimension (torch.randn(B, ...)), not "
                "torch.randn(1, ...).expand(B, ...); if one value per batch is meant, "
                "keep it out of the per-example tensors.",
            )
        )
    return findings


def _runs(supervised: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row of a (B, L) bool: the number of separate runs of True, and of True positions."""
    flat = supervised.reshape(len(supervised), -1).to(torch.int8)
    starts = flat[:, :1] + (flat[:, 1:] - flat[:, :-1]).clamp(min=0).sum(dim=1, keepdim=True)
    return starts.squeeze(1), flat.sum(dim=1)


def label_leak(inputs: torch.Tensor, targets: torch.Tensor, ignore_index: int) -> dict[str, Any] | None:
    """Evidence when integer targets of the inputs' shape are (almost) the inputs themselves at the
    supervised positions (targets != ignore_index), and those positions are a scattered selection among
    real tokens: a masked-LM input never masked. None when they are not."""
    if inputs.shape != targets.shape or inputs.dim() < 2 or inputs.is_floating_point() or targets.is_floating_point():
        return None
    if inputs.dtype == torch.bool or targets.dtype == torch.bool:
        return None
    inputs, targets = inputs.detach().cpu(), targets.detach().cpu()
    supervised = targets != ignore_index
    count = int(supervised.sum())
    if count == 0 or bool(supervised.all()):
        return None  # every position supervised: an autoencoder or a tagger, where input = target can be right
    if len(torch.unique(inputs[~supervised])) < 2:
        return None  # only padding is ignored: labels are the inputs by design (a loss that shifts them)
    equal = int((inputs[supervised] == targets[supervised]).sum())
    runs, positions = _runs(supervised)
    several = positions >= 2
    scattered = float((runs[several] >= 2).float().mean()) if bool(several.any()) else 0.0
    run_length = count / max(int(runs.sum()), 1)
    if equal < LEAK_FRACTION * count or scattered < SCATTERED_ROWS or run_length > SHORT_RUNS:
        return None
    return {
        "supervised": count,
        "input_equals_target": equal,
        "share": round(equal / count, 4),
        "ignore_index": ignore_index,
        "mean_run_length": round(run_length, 2),
    }


def label_leak_finding(split: str, inputs_path: str, targets_path: str, evidence: dict[str, Any]) -> dict[str, Any]:
    return finding(
        "input_carries_target",
        WARNING,
        f"{split} {inputs_path} equals {targets_path} at {evidence['input_equals_target']} of "
        f"{evidence['supervised']} supervised positions (targets != {evidence['ignore_index']}): the input shows the "
        "token each position is asked to predict, so the loss can be solved by copying (a masked-LM selection "
        "whose [MASK]/random replacement was never applied)",
        where=f"{split} {inputs_path}",
        evidence=evidence,
        suggestion="Replace the selected positions in the input (BERT: 80 % [MASK], 10 % a random token, 10 % kept) "
        "before returning the batch. If loss_fn shifts the labels itself (a causal LM with labels = input ids), "
        "ignore this.",
    )
