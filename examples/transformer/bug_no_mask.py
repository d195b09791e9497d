"""Planted bug: no causal mask. Position t reads the reversed digits after it, which are its
own targets: training accuracy soars, generation fails. check_dependencies(mode="causal") ->
future_leakage, "mask missing" ranked first."""

import math

from harness_transformer import *  # noqa: F403 - everything else is the clean harness
from harness_transformer import LAYERS, Attention, Transformer


class UnmaskedAttention(Attention):
    def scores(self, q, k):
        return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # BUG: the mask was forgotten


def build_model(layers: int = LAYERS):
    return Transformer(UnmaskedAttention, layers)
