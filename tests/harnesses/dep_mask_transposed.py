"""Bug: the causal mask is transposed (torch.tril(..., diagonal=-1) masked): position t sees
positions t..T-1 and none before it.

check_dependencies(mode="causal") reports future_leakage and ranks "mask transposed" first."""

import torch
from dep_causal_lm import CausalSelfAttention, TinyLM, get_batch, num_classes  # noqa: F401


class TransposedMask(CausalSelfAttention):
    def scores(self, q, k):
        T = q.shape[-2]
        att = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
        past = torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)  # BUG: the transpose of triu(1)
        return att.masked_fill(past, float("-inf"))


def build_model(layers: int = 2):
    return TinyLM(TransposedMask, layers)
