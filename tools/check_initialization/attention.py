"""Attention rows at init, for check_initialization's saturated_attention.

The attention calls (softmax over keys, F.scaled_dot_product_attention, nn.MultiheadAttention)
are seen by attention_calls.AttentionWatcher while the model runs; this file keeps their rows'
statistics and judges them.

Per call, on the first example of the batch (recomputing and reducing every example's (T, T)
weights was half of check_initialization's time at T = 512; one example gave the same mean
largest weight to 3 digits on the nanoGPT benchmark), over the rows with at least two keys
they may attend to (a causal mask's first row has one key and is one-hot by construction, its
second row's two keys leave a weight of at least 1/2 whatever the scale: rows a mask leaves one or
two keys say nothing about the scale and are left out), the mean of each row's largest weight and
of its entropy over ln(keys). At init a healthy row is near uniform; without the 1/sqrt(d_k)
scale, or with projections drawn from N(0, 1), the logits span tens of units and every row
puts all its weight on one key, so almost no gradient flows through the softmax.
"""

from __future__ import annotations

from typing import Any

import torch

from ..wire.findings import ERROR, WARNING, finding
from ..worker.attention_calls import AttentionCall, AttentionWatcher

ONE_HOT = 0.9  # a row whose largest weight is above this is nearly one-hot
# Measured at init on the fixtures (causal LM, 4 heads of 8, T = 12): mean largest weight 0.27-0.30 and
# entropy 0.95-0.97 of ln(keys) with the scale and the default init; 0.97-0.99 and 0.01-0.04 without
# the scale and with N(0, 1) projections. An error when the rows are one-hot on average, a warning when
# merely peaked (entropy under half of ln(keys), scale-free, unlike the largest weight of short rows).
PEAKED_ENTROPY = 0.5
MIN_KEYS = 3  # rows with fewer keys are peaked by the mask, not by the scale


def _row_stats(probs: torch.Tensor, allowed: torch.Tensor) -> dict[str, Any]:
    """Mean largest weight, mean entropy / ln(keys) and one-hot fraction over rows with >= MIN_KEYS keys
    (null when a mask leaves every row fewer: the call is listed, peaked by its mask, not judged)."""
    probs = probs.detach().float()
    allowed = allowed.expand_as(probs)
    keys = allowed.sum(-1)  # (..., T)
    rows = keys >= MIN_KEYS
    counts = {
        "rows": int(rows.sum()),
        "rows_with_one_key": int((keys == 1).sum()),
        "rows_with_two_keys": int((keys == 2).sum()),
        "keys": int(keys.max()),
    }
    if not bool(rows.any()):
        return {**counts, "mean_max_prob": None, "mean_entropy_ratio": None, "one_hot_fraction": None}
    largest = probs.masked_fill(~allowed, 0).amax(-1)[rows]
    entropy = -torch.special.xlogy(probs, probs).masked_fill(~allowed, 0).sum(-1)[rows]
    normalised = entropy / keys[rows].float().log()
    return {
        **counts,
        "mean_max_prob": float(largest.mean()),
        "mean_entropy_ratio": float(normalised.mean()),
        "one_hot_fraction": float((largest > ONE_HOT).float().mean()),
    }


class AttentionRecorder(AttentionWatcher):
    """Row statistics of every attention call over keys in a forward, named by `name_of()` (the module running)."""

    def __init__(self, name_of):
        super().__init__()
        self.name_of = name_of
        self.rows: list[dict[str, Any]] = []

    def seen(self, call: AttentionCall) -> None:
        if call.dim != -1:
            return  # a softmax over the queries has no rows over keys to judge
        probs, allowed = call.weights(True)  # the first example's rows: as telling, at 1/B of the cost
        stats = _row_stats(probs, allowed)
        if stats["rows"] or stats["rows_with_one_key"] or stats["rows_with_two_keys"]:
            self.rows.append({"where": self.name_of(), "kind": call.kind, "shape": list(probs.shape), **stats})


def _few_keys(row: dict[str, Any]) -> str:
    few = row["rows_with_one_key"] + row["rows_with_two_keys"]
    return f" (the {few} rows a mask leaves one or two keys, peaked by the mask, left out)" if few else ""


def attention_findings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """saturated_attention for the attention calls whose rows start nearly one-hot (error) or peaked (warning)."""
    judged = [r for r in rows if r["rows"]]
    peaked = [r for r in judged if r["mean_max_prob"] > ONE_HOT or r["mean_entropy_ratio"] < PEAKED_ENTROPY]
    if not peaked:
        return []
    worst = max(peaked, key=lambda r: r["mean_max_prob"])
    one_hot = worst["mean_max_prob"] > ONE_HOT
    return [
        finding(
            "saturated_attention",
            ERROR if one_hot else WARNING,
            f"{len(peaked)} of {len(rows)} attention call(s) start {'nearly one-hot' if one_hot else 'peaked'}; worst "
            f"{worst['where']} ({worst['kind']}): mean largest weight {worst['mean_max_prob']:.3g} over "
            f"{worst['rows']} rows of up to {worst['keys']} keys, entropy {worst['mean_entropy_ratio']:.2g} of "
            f"ln(keys), {worst['one_hot_fraction']:.0%} of rows above {ONE_HOT}" + _few_keys(worst),
            where=worst["where"],
            evidence={
                "calls": {
                    r["where"]: {k: r[k] for k in ("kind", "mean_max_prob", "mean_entropy_ratio", "one_hot_fraction")}
                    for r in peaked[:8]
                },
                "healthy_max_prob": "about 1/keys at init",
                "one_hot": ONE_HOT,
            },
            suggestion="The attention logits start far too large, so the softmax passes almost no gradient: divide "
            "q @ k^T by sqrt(d_k) (the head size), and initialise the q/k/v projections to the fan-in (nn.Linear's "
            "default, or N(0, 0.02) as in GPT-2) rather than N(0, 1). Call check_initialization again, then "
            "gradient_check.",
        )
    ]
