"""Clean twin: a tiny pre-LayerNorm transformer (token + position embeddings, causal self-attention, MLP,
final LayerNorm, LM head) predicting the previous token. gradient_check must give it no warning; `Block`
is an nn.Module class the numerical mode can check as a whole."""

import torch
from torch import nn

vocab, seq_len, d_model = 11, 8, 16
num_classes = vocab


class Block(nn.Module):
    def __init__(self, d: int = 8, heads: int = 2):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):  # (B, T, d)
        T = x.shape[1]
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=causal, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class TinyLM(nn.Module):
    def __init__(self, layers: int = 2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(seq_len, d_model)
        self.blocks = nn.Sequential(*[Block(d_model) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx):  # (B, T) -> (B, T, vocab)
        positions = torch.arange(idx.shape[1], device=idx.device)
        return self.head(self.ln_f(self.blocks(self.tok(idx) + self.pos(positions))))


def build_model(layers: int = 2):
    return TinyLM(layers)


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    idx = torch.randint(0, vocab, (batch_size, seq_len), generator=g)
    return idx, torch.roll(idx, 1, dims=1)
