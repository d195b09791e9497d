"""Bug: view instead of transpose when going from batch-first to sequence-first.

The attention below is written sequence-first, (T, B*heads, hs) like torch's own
multi-head attention, but the block feeds it `x.view(T, B, C)` instead of
`x.transpose(0, 1)` and reads the result back with `.view(B, T, C)`. Shapes all agree,
yet rows from different examples land in the same "sequence". Because the attention is
causal, example 0 only ever sees itself (its rows come first), while example 3 attends
to rows of examples 0-2: a check of example 0 alone finds nothing."""

import math

import torch
from torch import nn
from torch.nn import functional as F

SEQ_LEN, WIDTH, HEADS = 8, 16, 4


class SeqFirstCausalAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (T, B, C)
        T, B, C = x.shape
        hs = C // HEADS
        q, k, v = (t.reshape(T, B * HEADS, hs).transpose(0, 1) for t in self.qkv(x).split(C, dim=2))  # (B*nh, T, hs)
        att = q @ k.transpose(1, 2) / math.sqrt(hs)
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        y = F.softmax(att.masked_fill(future, float("-inf")), dim=-1) @ v  # (B*nh, T, hs)
        return self.proj(y.transpose(0, 1).reshape(T, B, C))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(WIDTH)
        self.attn = SeqFirstCausalAttention()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C)
        B, T, C = x.shape
        h = self.ln(x).view(T, B, C)  # BUG: should be .transpose(0, 1)
        return x + self.attn(h).view(B, T, C)  # BUG: should be .transpose(0, 1)


def build_model():
    return nn.Sequential(nn.Linear(WIDTH, WIDTH), Block(), nn.Linear(WIDTH, WIDTH))


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    x = torch.randn(batch_size, SEQ_LEN, WIDTH, generator=g)
    return x, x.roll(-1, dims=1)
