"""Bug: the causal mask is off by one (torch.triu(..., diagonal=2)): position t also sees t+1.

check_dependencies(mode="causal") reports future_leakage and ranks "mask off by one" first:
each output sees only the next position or two (one more per layer), and the softmax's
masked scores start one diagonal too high."""

import torch
from dep_causal_lm import CausalSelfAttention, TinyLM, get_batch, num_classes  # noqa: F401


class ShiftedMask(CausalSelfAttention):
    def scores(self, q, k):
        T = q.shape[-2]
        att = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
        future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=2)  # BUG: diagonal=1
        return att.masked_fill(future, float("-inf"))


def build_model(layers: int = 2):
    return TinyLM(ShiftedMask, layers)
