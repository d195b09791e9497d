"""Clean twin: a tiny GPT-style language model on token ids, with a correct causal mask.

check_dependencies must find no future leakage and no batch dependence here."""

import math

import torch
from torch import nn
from torch.nn import functional as F

VOCAB, SEQ_LEN, WIDTH, HEADS = 16, 8, 32, 4
num_classes = VOCAB


class CausalSelfAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        T = q.shape[-2]
        att = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, nh, T, T)
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=q.device), diagonal=1)
        return att.masked_fill(future, float("-inf"))

    def weights(self, scores: torch.Tensor) -> torch.Tensor:
        return F.softmax(scores, dim=-1)  # over the keys

    def merge(self, y: torch.Tensor) -> torch.Tensor:
        B, nh, T, hs = y.shape
        return y.transpose(1, 2).reshape(B, T, nh * hs)  # (B, T, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = self.weights(self.scores(q, k)) @ v  # (B, nh, T, hs)
        return self.proj(self.merge(y))


class Block(nn.Module):
    def __init__(self, attention: nn.Module):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.attn = attention
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyLM(nn.Module):
    def __init__(self, attention_class=CausalSelfAttention, layers: int = 2):
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, WIDTH)
        self.pos_emb = nn.Embedding(SEQ_LEN, WIDTH)
        self.blocks = nn.ModuleList(Block(attention_class(WIDTH, HEADS)) for _ in range(layers))
        self.ln_f = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, VOCAB)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        return self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1], device=idx.device))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))  # (B, T, VOCAB)


def build_model(layers: int = 2):
    return TinyLM(CausalSelfAttention, layers)


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    tokens = torch.randint(0, VOCAB, (batch_size, SEQ_LEN + 1), generator=g)
    return tokens[:, :-1], tokens[:, 1:]
