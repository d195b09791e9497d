"""Bug: the language model's self-attention has no causal mask.

Every position attends to the whole sequence, so the logits at position t see the tokens
after t (the very tokens they are trained to predict): training loss drops suspiciously
fast and generation is garbage. check_dependencies(mode="causal") reports future_leakage."""

import math

from dep_causal_lm import CausalSelfAttention, TinyLM, get_batch, num_classes  # noqa: F401


class UnmaskedSelfAttention(CausalSelfAttention):
    def scores(self, q, k):
        return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # the mask was forgotten


def build_model(layers: int = 2):
    return TinyLM(UnmaskedSelfAttention, layers)
