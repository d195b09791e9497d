"""Bug: a causal mask left in the encoder (copied from a GPT block): each position sees only
the positions before it, so a [MASK] cannot use its right context. check_dependencies at
its defaults reports encoder_not_bidirectional."""

import torch
from dep_encoder_mlm import NEG, Encoder, EncoderAttention, forward, get_batch, loss_fn  # noqa: F401


class CausalEncoderAttention(EncoderAttention):
    def mask(self, scores, real):
        T = scores.shape[-1]
        future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        return super().mask(scores, real).masked_fill(future, NEG)


def build_model(layers: int = 2):
    return Encoder(CausalEncoderAttention, layers)
