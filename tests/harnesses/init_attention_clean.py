"""Clean twin: a tiny causal language model whose attention is written three ways (model_kwargs
attention="manual" | "sdpa" | "mha"), each scaled by 1/sqrt(d_k) with PyTorch's default init.
check_initialization must find no saturated attention: rows start near uniform over their keys, and
the causal mask's one-key first row is one-hot by construction, not by a bug."""

import math

import torch
from torch import nn
from torch.nn import functional as F

VOCAB, SEQ_LEN, WIDTH, HEADS = 16, 12, 32, 4
num_classes = VOCAB


class Attention(nn.Module):
    def __init__(self, kind: str, scaled: bool = True):
        super().__init__()
        self.kind, self.scaled = kind, scaled
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
        self.proj = nn.Linear(WIDTH, WIDTH)

    def manual(self, q, k, v):  # (B, nh, T, hs) each
        T, hs = q.shape[-2:]
        scores = q @ k.transpose(-2, -1) / (math.sqrt(hs) if self.scaled else 1.0)  # (B, nh, T, T)
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=q.device), diagonal=1)
        return F.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v

    def forward(self, x):  # (B, T, C)
        B, T, C = x.shape
        q, k, v = (t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in self.qkv(x).split(C, dim=2))
        if self.kind == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=None if self.scaled else 1.0)
        else:
            y = self.manual(q, k, v)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class MHA(nn.Module):
    """nn.MultiheadAttention with a causal mask (it always scales by 1/sqrt(d_k))."""

    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)

    def forward(self, x):
        T = x.shape[1]
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        return self.mha(x, x, x, attn_mask=future, need_weights=False)[0]


class TinyLM(nn.Module):
    def __init__(self, attention: str = "manual", scaled: bool = True):
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, WIDTH)
        self.pos_emb = nn.Embedding(SEQ_LEN, WIDTH)
        self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.attn = MHA() if attention == "mha" else Attention(attention, scaled)
        self.head = nn.Linear(WIDTH, VOCAB)

    def forward(self, idx):  # (B, T) token ids
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1], device=idx.device))
        x = x + self.attn(self.ln1(x))
        return self.head(self.ln2(x))  # (B, T, VOCAB)


def build_model(attention: str = "manual"):
    return TinyLM(attention)


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    tokens = torch.randint(0, VOCAB, (batch_size, SEQ_LEN + 1), generator=g)
    return tokens[:, :-1], tokens[:, 1:]
