"""Attention rows at init, for check_initialization's saturated_attention.

A TorchFunctionMode sees every softmax over keys (F.softmax, Tensor.softmax, nn.Softmax),
F.scaled_dot_product_attention and nn.MultiheadAttention's functional forward while the
model runs, so the user changes no code; leaving the `with` block uninstalls it, also on an
exception. For the fused calls the weights are recomputed from q and k (scale, mask,
is_causal) beside the real call, whose output is returned untouched.

Per call: over the rows with at least two keys they may attend to (a causal mask's first row
has one key and is one-hot by construction), the mean of each row's largest weight and of
its entropy over ln(keys). At init a healthy row is near uniform; without the 1/sqrt(d_k)
scale, or with projections drawn from N(0, 1), the logits span tens of units and every row
puts all its weight on one key, so almost no gradient flows through the softmax.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from .findings import ERROR, WARNING, finding

MASKED = -1e4  # logits at or below this are masked keys (masked_fill with -inf, -1e9 or -1e4)
ONE_HOT = 0.9  # a row whose largest weight is above this is nearly one-hot
# Measured at init on the fixtures (causal LM, 4 heads of 8, T = 12): mean largest weight 0.27-0.30 and
# entropy 0.95-0.97 of ln(keys) with the scale and the default init; 0.97-0.99 and 0.01-0.04 without
# the scale and with N(0, 1) projections. An error when the rows are one-hot on average, a warning when
# merely peaked (entropy under half of ln(keys), scale-free, unlike the largest weight of short rows).
PEAKED_ENTROPY = 0.5


def _row_stats(probs: torch.Tensor, allowed: torch.Tensor) -> dict[str, Any] | None:
    """Mean largest weight, mean entropy / ln(keys) and one-hot fraction over rows with >= 2 keys."""
    probs = probs.detach().float()
    allowed = allowed.expand_as(probs)
    keys = allowed.sum(-1)  # (..., T)
    rows = keys >= 2
    if not bool(rows.any()):
        return None
    largest = probs.masked_fill(~allowed, 0).amax(-1)[rows]
    entropy = -torch.special.xlogy(probs, probs).masked_fill(~allowed, 0).sum(-1)[rows]
    normalised = entropy / keys[rows].float().log()
    return {"rows": int(rows.sum()), "rows_with_one_key": int((keys == 1).sum()),
            "keys": int(keys.max()), "mean_max_prob": float(largest.mean()),
            "mean_entropy_ratio": float(normalised.mean()), "one_hot_fraction": float((largest > ONE_HOT).float().mean())}


def _sdpa_weights(q, k, attn_mask=None, is_causal=False, scale=None, enable_gqa=False, **_) -> tuple:
    """(weights, allowed keys) of F.scaled_dot_product_attention, without its dropout."""
    if enable_gqa and k.shape[-3] != q.shape[-3]:
        k = k.repeat_interleave(q.shape[-3] // k.shape[-3], dim=-3)
    scores = q.float() @ k.float().transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    L, S = scores.shape[-2:]
    allowed = torch.ones(L, S, dtype=torch.bool, device=q.device)
    if is_causal:
        allowed = allowed.tril()
    if attn_mask is not None:
        allowed = allowed & (attn_mask if attn_mask.dtype == torch.bool else attn_mask > MASKED)
        if attn_mask.dtype != torch.bool:
            scores = scores + attn_mask.float()
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, -1).nan_to_num(0.0), allowed


def _allowed_by(mask: torch.Tensor | None, blocks_when_true: bool) -> torch.Tensor | None:
    if mask is None:
        return None
    if mask.dtype == torch.bool:
        return ~mask if blocks_when_true else mask
    return mask > MASKED


def _mha_weights(func, args: tuple, kwargs: dict) -> tuple:
    """(per-head weights, allowed keys) of nn.MultiheadAttention's functional forward, without dropout.
    The allowed keys come from its masks (True blocks there): a saturated row's exact zeros are keys."""
    call = {**kwargs, "need_weights": True, "average_attn_weights": False, "training": False}
    weights = func(*args, **call)[1]  # (B, nh, L, S)
    B, heads, L, S = weights.shape
    allowed = torch.ones(1, 1, L, S, dtype=torch.bool, device=weights.device)
    attn_mask = _allowed_by(kwargs.get("attn_mask"), blocks_when_true=True)
    if attn_mask is not None:
        allowed = allowed & (attn_mask.reshape(B, heads, L, S) if attn_mask.dim() == 3 else attn_mask)
    padding = _allowed_by(kwargs.get("key_padding_mask"), blocks_when_true=True)
    if padding is not None:
        allowed = allowed & padding.reshape(B, 1, 1, S)
    return weights, allowed


def _is_attention_softmax(probs_in: torch.Tensor, dim: Any) -> bool:
    """A softmax over keys: on the last dim of scores (B, nh, T, S), or of square (B, T, T) scores.
    Class probabilities (B, C) and per-token vocabularies (B, T, V) are left alone."""
    if not isinstance(probs_in, torch.Tensor) or not probs_in.is_floating_point() or probs_in.dim() < 3:
        return False
    if dim is None or dim not in (-1, probs_in.dim() - 1):
        return False
    return probs_in.dim() >= 4 or probs_in.shape[-1] == probs_in.shape[-2]


class AttentionRecorder(TorchFunctionMode):
    """Row statistics of every attention call in a forward, named by `name_of()` (the module running)."""

    def __init__(self, name_of):
        super().__init__()
        self.name_of = name_of
        self.rows: list[dict[str, Any]] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        try:
            if name == "softmax" and args and _is_attention_softmax(args[0], args[1] if len(args) > 1 else kwargs.get("dim")):
                self._record("softmax", out, args[0] > MASKED)
            elif name == "scaled_dot_product_attention":
                self._record("scaled_dot_product_attention", *_sdpa_weights(*args[:2], **kwargs))
            elif name == "multi_head_attention_forward":
                self._record("MultiheadAttention", *_mha_weights(func, args, kwargs))
        except (RuntimeError, ValueError, TypeError, IndexError):
            pass  # an attention layout we cannot read (extra bias keys, odd masks): no statistics, never a crash
        return out

    def _record(self, kind: str, probs: torch.Tensor, allowed: torch.Tensor) -> None:
        stats = _row_stats(probs, allowed)
        if stats is not None:
            self.rows.append({"where": self.name_of(), "kind": kind, "shape": list(probs.shape), **stats})


def attention_findings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """saturated_attention for the attention calls whose rows start nearly one-hot (error) or peaked (warning)."""
    peaked = [r for r in rows if r["mean_max_prob"] > ONE_HOT or r["mean_entropy_ratio"] < PEAKED_ENTROPY]
    if not peaked:
        return []
    worst = max(peaked, key=lambda r: r["mean_max_prob"])
    one_hot = worst["mean_max_prob"] > ONE_HOT
    return [finding(
        "saturated_attention", ERROR if one_hot else WARNING,
        f"{len(peaked)} of {len(rows)} attention call(s) start {'nearly one-hot' if one_hot else 'peaked'}; worst "
        f"{worst['where']} ({worst['kind']}): mean largest weight {worst['mean_max_prob']:.3g} over {worst['rows']} "
        f"rows of up to {worst['keys']} keys, entropy {worst['mean_entropy_ratio']:.2g} of ln(keys), "
        f"{worst['one_hot_fraction']:.0%} of rows above {ONE_HOT}"
        + (f" (the {worst['rows_with_one_key']} rows with a single key, one-hot by the mask, left out)" if worst["rows_with_one_key"] else ""),
        where=worst["where"],
        evidence={"calls": {r["where"]: {k: r[k] for k in ("kind", "mean_max_prob", "mean_entropy_ratio", "one_hot_fraction")}
                            for r in peaked[:8]}, "healthy_max_prob": "about 1/keys at init", "one_hot": ONE_HOT},
        suggestion="The attention logits start far too large, so the softmax passes almost no gradient: divide "
        "q @ k^T by sqrt(d_k) (the head size), and initialise the q/k/v projections to the fan-in (nn.Linear's default, "
        "or N(0, 0.02) as in GPT-2) rather than N(0, 1). Call check_initialization again, then gradient_check.",
    )]
