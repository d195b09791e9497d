"""Clean: a causal LM with rotary position embeddings (RoPE) inside attention and no
absolute positional embedding. Position information enters at the first attention's scores,
so check_dependencies(mode="position") must find nothing (and mode="causal" no leak)."""

import torch
from dep_causal_lm import CausalSelfAttention, TinyLM, get_batch, num_classes  # noqa: F401


def rotate(x: torch.Tensor) -> torch.Tensor:  # (B, nh, T, hs): rotate channel pairs by position-dependent angles
    T, hs = x.shape[-2], x.shape[-1]
    angle = torch.arange(T).view(-1, 1) * 10000 ** (-torch.arange(0, hs, 2) / hs)  # (T, hs/2)
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.cat([even * angle.cos() - odd * angle.sin(), even * angle.sin() + odd * angle.cos()], dim=-1)


class RotaryAttention(CausalSelfAttention):
    def scores(self, q, k):
        return super().scores(rotate(q), rotate(k))


class RotaryLM(TinyLM):
    def embed(self, idx):
        return self.tok_emb(idx)  # no absolute positions: RoPE carries them


def build_model(layers: int = 2):
    return RotaryLM(RotaryAttention, layers)
