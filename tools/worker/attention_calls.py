"""Seeing attention calls while a model runs, for the diagnostics that judge them.

A TorchFunctionMode sees every softmax over attention scores (F.softmax, torch.softmax,
Tensor.softmax, nn.Softmax), F.scaled_dot_product_attention and nn.MultiheadAttention's
functional forward, so the user changes no code; leaving the `with` block uninstalls it, also
on an exception. Each call is handed to `seen()` as an AttentionCall: which call, the dim it
normalises, whether it is self-attention, and on demand its masked keys and its weights.
The real call always runs first and its output is returned untouched; the fused calls'
weights are recomputed from q and k (scale, mask, is_causal) beside it.

check_initialization reads the rows' statistics (attention.py); check_dependencies reads the
dim and the mask pattern (dependencies_causes.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

# A score at or below this is a masked key: exp() of it is 0 in float32 next to any real score. Half of
# BERT's additive -10000, so that -10000 plus a real score (just above -1e4) still reads as masked.
MASKED = -5e3
SOFTMAXES = (F.softmax, torch.softmax, torch.Tensor.softmax)  # nn.Softmax calls F.softmax
SDPA_PARAMS = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")


@dataclass
class AttentionCall:
    """One attention call. `allowed()` is True where a query may see a key (broadcastable to the
    weights); `weights(first)` is (weights, allowed), of the first example only (dim 0) when
    `first`: a fused call's weights are recomputed, and one example's rows cost 1/B of the
    batch's. Both are computed only when asked for."""

    kind: str  # softmax, scaled_dot_product_attention or MultiheadAttention
    dim: int  # the dim the weights are normalised over, from the end: -1 is the keys
    square: bool  # as many queries as keys: self-attention, where a causal mask applies
    allowed: Callable[[], torch.Tensor]
    weights: Callable[[bool], tuple[torch.Tensor, torch.Tensor]]

    def mask(self) -> str:
        """The mask pattern of the first (T, T) score matrix: causal, none, transposed, off_by_<k>, other."""
        allowed = self.allowed()
        return mask_pattern(~allowed.reshape(-1, *allowed.shape[-2:])[0])


def mask_pattern(masked: torch.Tensor) -> str:
    """Name the (Tq, Tk) boolean pattern of masked scores: causal, none, transposed, off_by_<k>, other."""
    rows, cols = masked.shape
    if not masked.any():
        return "none"
    ones = torch.ones(rows, cols, dtype=torch.bool, device=masked.device)
    if torch.equal(masked, ones.triu(1)):
        return "causal"
    if torch.equal(masked, ones.tril(-1)):
        return "transposed"
    for shift in range(2, rows):
        if torch.equal(masked, ones.triu(shift)):
            return f"off_by_{shift - 1}"
    return "other"


def _softmax_call(args: tuple, kwargs: dict, out: torch.Tensor) -> AttentionCall | None:
    """A softmax over scores: any dim of square (B, T, T) scores (a softmax over the queries is a bug
    to see), or the last dim of (B, nh, T, S) ones. Class probabilities (B, C) and per-token
    vocabularies (B, T, V) are left alone."""
    scores = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point() or scores.dim() < 3 or dim is None:
        return None
    dim = dim - scores.dim() if dim >= 0 else dim
    square = scores.shape[-1] == scores.shape[-2] and scores.shape[-1] >= 2
    if not (square or (scores.dim() >= 4 and dim == -1)):
        return None
    return AttentionCall(
        "softmax", dim, square, lambda: scores > MASKED, lambda first: _first((out, scores > MASKED), first)
    )


def _first(pair: tuple[torch.Tensor, torch.Tensor], first: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(weights, allowed) cut to the first example (dim 0; allowed only where it is not broadcast)."""
    weights, allowed = pair
    if not first or weights.dim() < 3:
        return weights, allowed
    return weights[:1], allowed[:1] if allowed.dim() == weights.dim() else allowed


def _sdpa_allowed(q, k, attn_mask=None, is_causal=False, **_) -> torch.Tensor:
    allowed = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device)
    if is_causal:
        allowed = allowed.tril()
    if attn_mask is not None:  # SDPA: True (or a score above MASKED) means "may attend"
        allowed = allowed & (attn_mask if attn_mask.dtype == torch.bool else attn_mask > MASKED)
    return allowed


def _sdpa_weights(q, k, first, attn_mask=None, scale=None, enable_gqa=False, **call) -> tuple:
    """(weights, allowed keys) of F.scaled_dot_product_attention, without its dropout; of the
    first example only when `first` (q and k cut before the product: the costly part)."""
    if first and q.dim() >= 3:
        if attn_mask is not None and attn_mask.dim() == q.dim() and attn_mask.shape[0] == q.shape[0]:
            attn_mask = attn_mask[:1]
        q, k = q[:1], k[:1]
    allowed = _sdpa_allowed(q, k, attn_mask=attn_mask, **call)
    if enable_gqa and k.shape[-3] != q.shape[-3]:
        k = k.repeat_interleave(q.shape[-3] // k.shape[-3], dim=-3)
    scores = q.float() @ k.float().transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(q.shape[-1]))
    if attn_mask is not None and attn_mask.dtype != torch.bool:
        scores = scores + attn_mask.float()
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, -1).nan_to_num(0.0), allowed


def _sdpa_call(args: tuple, kwargs: dict) -> AttentionCall | None:
    call = {**dict(zip(SDPA_PARAMS, args)), **kwargs}
    q, k = call.pop("query", None), call.pop("key", None)
    if not isinstance(q, torch.Tensor) or not isinstance(k, torch.Tensor):
        return None
    return AttentionCall(
        "scaled_dot_product_attention",
        -1,
        q.shape[-2] == k.shape[-2],
        lambda: _sdpa_allowed(q, k, **call),
        lambda first: _sdpa_weights(q, k, first, **call),
    )


def _allowed_by(mask: torch.Tensor | None) -> torch.Tensor | None:
    """nn.MultiheadAttention's masks block where True (or where the float mask is at or below MASKED)."""
    if mask is None:
        return None
    return ~mask if mask.dtype == torch.bool else mask > MASKED


def _mha_weights(func, args: tuple, kwargs: dict) -> tuple:
    """(per-head weights, allowed keys) of nn.MultiheadAttention's functional forward, without dropout.
    The allowed keys come from its masks: a saturated row's exact zeros are keys."""
    call = {**kwargs, "need_weights": True, "average_attn_weights": False, "training": False}
    weights = func(*args, **call)[1]  # (B, nh, L, S)
    B, heads, L, S = weights.shape
    allowed = torch.ones(1, 1, L, S, dtype=torch.bool, device=weights.device)
    attn_mask = _allowed_by(kwargs.get("attn_mask"))
    if attn_mask is not None:
        allowed = allowed & (attn_mask.reshape(B, heads, L, S) if attn_mask.dim() == 3 else attn_mask)
    padding = _allowed_by(kwargs.get("key_padding_mask"))
    if padding is not None:
        allowed = allowed & padding.reshape(B, 1, 1, S)
    return weights, allowed


def _mha_call(func, args: tuple, kwargs: dict) -> AttentionCall:
    query, key = args[0], args[1]
    return AttentionCall(
        "MultiheadAttention",
        -1,
        query.shape[0] == key.shape[0],
        lambda: _mha_weights(func, args, kwargs)[1],
        lambda first: _first(_mha_weights(func, args, kwargs), first),
    )


def attention_call(func, args: tuple, kwargs: dict, out: Any) -> AttentionCall | None:
    """The AttentionCall of one torch function call, or None when it is no attention call."""
    if func in SOFTMAXES and args:
        return _softmax_call(args, kwargs, out)
    if func is F.scaled_dot_product_attention:
        return _sdpa_call(args, kwargs)
    if getattr(func, "__name__", "") == "multi_head_attention_forward":
        return _mha_call(func, args, kwargs)
    return None


class AttentionWatcher(TorchFunctionMode):
    """Hands every attention call of the forward inside the `with` block to `seen()` (subclasses say
    what to keep)."""

    def seen(self, call: AttentionCall) -> None:
        raise NotImplementedError

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        try:
            call = attention_call(func, args, kwargs, out)
            if call is not None:
                self.seen(call)
        except (RuntimeError, ValueError, TypeError, IndexError):
            pass  # an attention layout we cannot read (extra bias keys, odd masks): not recorded, never a crash
        return out
