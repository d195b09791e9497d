"""Planted bug: no 1/sqrt(d_k) in the attention scores, with weights drawn from N(0, 1).

Scores of size ~d_model make every softmax row nearly one-hot at init: the gradient through
the attention vanishes. check_initialization -> saturated_attention."""

import torch
from harness_transformer import *  # noqa: F403 - everything else is the clean harness
from harness_transformer import LAYERS, Attention, Transformer


class UnscaledAttention(Attention):
    def __init__(self):
        super().__init__()
        torch.nn.init.normal_(self.qkv.weight, std=1.0)  # BUG (with the next one): N(0, 1) init

    def scores(self, q, k):
        steps = q.shape[-2]
        future = torch.triu(torch.ones(steps, steps, dtype=torch.bool, device=q.device), diagonal=1)
        return (q @ k.transpose(-2, -1)).masked_fill(future, float("-inf"))  # BUG: no / sqrt(d_k)


def build_model(layers: int = LAYERS):
    return Transformer(UnscaledAttention, layers)
