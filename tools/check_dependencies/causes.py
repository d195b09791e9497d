"""Why does position t see the future? Rank the usual causes of a causal leak by the evidence.

Two kinds of evidence, both gathered during check_dependencies' one traced forward pass:

* the dependence pattern: for each measured output position t, which later inputs it
  sees (all of them, the next few, irregular blocks) and whether it still sees the past;
* the attention calls themselves, seen by attention_calls.AttentionWatcher: every softmax over
  a square (T, T) score tensor (which dim it normalises, which entries are masked to -inf) and
  every scaled_dot_product_attention (is_causal, attn_mask). nn.MultiheadAttention's calls are
  not used: they leave only the pattern.

The rules below were read off planted fixtures (tests/harnesses/dep_*.py, two layers,
T=8, checked in tests/test_dependencies.py):

| bug | later inputs seen by output t | past inputs | attention call |
|---|---|---|---|
| mask missing | all | seen | softmax dim -1, nothing masked |
| mask transposed (tril) | all | not seen | softmax dim -1, the past masked |
| mask off by one (diagonal=2) | t+1 .. t+layers (bounded reach) | seen | upper triangle from t+2 masked |
| softmax over the queries | all | seen | softmax dim -2, causal mask right |
| heads merged by view, no transpose | irregular; some rows clean | seen | softmax dim -1, causal mask right |
"""

from __future__ import annotations

from typing import Any

import torch

from ..worker.attention_calls import AttentionCall, AttentionWatcher

STRONG = 0.1  # of the median allowed dependence: a leak that strong is first-hand, not spread by a later layer
WEAK_FUTURE = 0.3  # future_to_past below this: the future enters weakly (a normaliser), not like the past
MAX_SHIFT_REACH = 4  # an off-by-one mask reaches one position further per layer: bounded reach, a few layers
MAX_RECORDED = 64  # attention calls kept (one per layer and head group is plenty)
OTHER_CAUSES = (
    "a mean/sum or normalisation over the whole sequence, a bidirectional RNN, or a convolution padded on both sides"
)

CAUSES = {
    "mask_missing": "the causal mask is missing or never applied (masked_fill's result not assigned, mask=None "
    "passed, is_causal=False): mask the scores with torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1) "
    "to -inf before the softmax",
    "mask_transposed": "the mask is transposed (torch.tril where torch.triu is meant, or a (T, 1) mask broadcast "
    "over keys instead of queries): position t may see positions >= t only",
    "mask_off_by_one": "the mask is off by one (torch.triu(..., diagonal=2), or a mask built for T+1 positions and "
    "sliced from the wrong end): position t also sees t+1",
    "softmax_dim": "the softmax runs over the wrong dimension: F.softmax(scores, dim=-2) normalises over the "
    "queries, and the normaliser mixes in later queries; use dim=-1 (the keys)",
    "heads_merged": "the heads are merged with view/reshape without the transpose back: (B, nh, T, hs) needs "
    "y.transpose(1, 2).contiguous().view(B, T, C), else position t reads other positions' channels",
    "encoder_by_design": "this looks like an encoder, and an encoder is meant to see both sides: every position "
    "depending on later ones is correct there, and mode='causal' applies to decoders only (the default mode checks an "
    "encoder: batch, both sides, padding, supervised positions); declare batch_roles = {'attention': 'causal'} if it "
    "is a decoder",
    "targets_unshifted": "the targets are the inputs themselves: a language model's target at t is the token at "
    "t+1 (x = tokens[:, :-1], y = tokens[:, 1:])",
}


class AttentionMaskRecorder(AttentionWatcher):
    """Notes the dim and the mask pattern of every softmax over (T, T) scores and every
    self-attention scaled_dot_product_attention call."""

    def __init__(self, calls: list[dict[str, Any]]):
        super().__init__()
        self.calls = calls

    def seen(self, call: AttentionCall) -> None:
        # cross-attention needs no causal mask; the ranking rules were read off softmax and SDPA calls only
        if len(self.calls) < MAX_RECORDED and call.square and call.kind != "MultiheadAttention":
            self.calls.append({"call": call.kind, "dim": call.dim, "mask": call.mask()})


def _strong_reach(relative: torch.Tensor, rows: list[int], threshold: float) -> list[int]:
    """Per row, the furthest later input it sees strongly (above STRONG x the typical allowed
    dependence), else the row itself. Merged heads leave a strong reach that jumps back and
    forth between rows; a second layer spreads weak leaks everywhere, which this ignores."""
    size = relative.shape[0]
    allowed = torch.cat([relative[o, :o] for o in rows if o > 0] or [torch.zeros(0, dtype=relative.dtype)])
    allowed = allowed[allowed > threshold]
    bar = max(threshold, STRONG * float(allowed.median())) if allowed.numel() else threshold
    return [max([i for i in range(o + 1, size) if relative[o, i] > bar], default=o) for o in rows]


def _future_to_past(relative: torch.Tensor, rows: list[int], threshold: float) -> float | None:
    """Median leak over median allowed off-diagonal dependence: ~1 when the future is seen like the
    past (no mask), ~0.1 when it only enters through a normaliser (softmax over the queries)."""
    forbidden = torch.cat([relative[o, o + 1 :] for o in rows])
    past = torch.cat([relative[o, :o] for o in rows if o > 0] or [torch.zeros(0, dtype=relative.dtype)])
    forbidden, past = forbidden[forbidden > threshold], past[past > threshold]
    if not forbidden.numel() or not past.numel():
        return None
    return round(float(forbidden.median() / past.median()), 3)


def pattern(relative: torch.Tensor, threshold: float) -> dict[str, Any]:
    """What the measured rows show: reach into the future, whether the past is still seen, clean rows."""
    size = relative.shape[0]
    rows = [o for o in range(size - 1) if not torch.isnan(relative[o]).any()]
    leaks = {o: [i for i in range(o + 1, size) if relative[o, i] > threshold] for o in rows}
    leaking = [o for o in rows if leaks[o]]
    if not leaking:
        return {"rows": rows, "leaking_rows": []}
    reach = {o: max(leaks[o]) - o for o in leaking}
    contiguous = all(leaks[o] == list(range(o + 1, o + 1 + len(leaks[o]))) for o in leaking)
    past_rows = [o for o in leaking if o > 0]
    strong = _strong_reach(relative, rows, threshold)
    return {
        "rows": rows,
        "leaking_rows": leaking,
        "clean_rows": [o for o in rows if not leaks[o]],
        "all_future_fraction": round(sum(len(leaks[o]) == size - 1 - o for o in leaking) / len(leaking), 3),
        "max_reach": max(reach.values()),
        "bounded_reach": contiguous
        and max(reach.values()) <= MAX_SHIFT_REACH
        and any(reach[o] < size - 1 - o for o in leaking),
        "past_seen_fraction": round(
            sum(bool((relative[o, :o] > threshold).any()) for o in past_rows) / len(past_rows), 3
        )
        if past_rows
        else None,
        "future_to_past": _future_to_past(relative, rows, threshold),
        "strong_reach": strong,
        "irregular_reach": any(later < earlier for earlier, later in zip(strong, strong[1:])),
    }


def _pattern_scores(shape: dict[str, Any], score: dict[str, float]) -> None:
    future_all = shape["all_future_fraction"] >= 0.99
    past_hidden = shape["past_seen_fraction"] == 0
    weak_future = shape["future_to_past"] is not None and shape["future_to_past"] < WEAK_FUTURE
    score["mask_transposed"] += 3 * (future_all and past_hidden) - 2 * (not past_hidden)
    score["mask_missing"] += 2 * (future_all and not past_hidden and not weak_future)
    score["softmax_dim"] += 2 * (future_all and not past_hidden and weak_future)
    score["mask_off_by_one"] += 3 * shape["bounded_reach"]
    score["heads_merged"] += 3 * (
        shape["irregular_reach"] or (bool(shape["clean_rows"]) and not shape["bounded_reach"])
    )


def _scores(shape: dict[str, Any], attention: list[dict[str, Any]], unshifted: bool, encoder: bool) -> dict[str, float]:
    """Evidence for each cause; higher ranks first. Attention calls weigh more than the pattern; a batch that
    shows an encoder (masked-LM labels, or declared) outweighs them all."""
    score = dict.fromkeys(CAUSES, 0.0)
    score["encoder_by_design"] += 10 * encoder
    masks = {call["mask"] for call in attention}
    score["softmax_dim"] += 4 * any(call["dim"] == -2 for call in attention)
    score["mask_missing"] += 4 * ("none" in masks)
    score["mask_transposed"] += 4 * ("transposed" in masks)
    score["mask_off_by_one"] += 4 * any(mask.startswith("off_by") for mask in masks)
    score["targets_unshifted"] += 5 if unshifted else -5  # a batch that shows it, else it explains no model leak
    if shape.get("leaking_rows"):
        _pattern_scores(shape, score)
    if attention and masks == {"causal"} and all(call["dim"] == -1 for call in attention):
        for cause in ("mask_missing", "mask_transposed", "mask_off_by_one", "softmax_dim"):
            score[cause] -= 3  # the scores are masked right and normalised over the keys: look after the softmax
        score["heads_merged"] += 2
    return score


def rank(shape: dict[str, Any], attention: list[dict[str, Any]], unshifted: bool, encoder: bool = False) -> list[str]:
    """Cause keys, most likely first (ties keep the usual order: missing, transposed, off by one, ...)."""
    score = _scores(shape, attention, unshifted, encoder)
    order = [cause for cause in CAUSES if encoder or cause != "encoder_by_design"]
    return sorted(order, key=lambda cause: (-score[cause], order.index(cause)))


def attention_summary(attention: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Distinct attention calls seen (call, dim, mask), in order: the evidence shown to the agent."""
    seen: list[dict[str, Any]] = []
    for call in attention:
        if call not in seen:
            seen.append(call)
    return seen


def suggestion(ranked: list[str], where: str) -> str:
    lines = [f"{n}. {CAUSES[cause]}" for n, cause in enumerate(ranked, 1)]
    return (
        f"Likely causes in `{where}`, most likely first by the evidence: "
        + "; ".join(lines)
        + f"; else {OTHER_CAUSES}. After fixing, call check_dependencies with mode='causal' again, "
        "then run_overfit_test."
    )


def targets_unshifted(inputs: torch.Tensor, targets: torch.Tensor | None, ignore_index: int) -> bool:
    """An LM batch whose targets equal its inputs at every scored position: the next token is not the target."""
    if targets is None or inputs.is_floating_point() or targets.is_floating_point() or targets.shape != inputs.shape:
        return False
    scored = targets != ignore_index
    return bool(scored.sum() >= max(2, scored.numel() // 2) and torch.equal(targets[scored], inputs[scored]))
