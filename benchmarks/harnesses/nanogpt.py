"""A nanoGPT-shaped causal language model as a harness, sized by model_kwargs.

GPT-2 layout as in Karpathy's nanoGPT: token embedding tied with the output layer, learned
positional embedding, pre-LN blocks whose attention is F.scaled_dot_product_attention with
is_causal=True, a GELU MLP of width 4x, nanoGPT's N(0, 0.02) init (residual projections
scaled by 1/sqrt(2 layers)). Parameters: about 12 * layers * width^2 + (vocab + block_size) * width.

    build_model(layers=5, heads=4, width=128, vocab=65, block_size=128)   # ~1M parameters
    build_model(layers=8, heads=6, width=384, block_size=512)             # ~14M
    build_model(layers=10, heads=10, width=640, block_size=512)           # ~50M

get_batch(batch_size, split) returns seeded token ids (x, y), y = x shifted by one,
of the shape of the model last built in this process: the tools build the model from
model_kwargs first, so the batch follows them. Tools that build no model (inspect_data)
see sequences of BLOCK_SIZE tokens: edit it for them. Used by benchmarks/tool_cost.py.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

VOCAB, BLOCK_SIZE = 65, 128  # nanoGPT's character-level Shakespeare: 65 symbols
num_classes = VOCAB  # inspect_data checks the targets against it
_shape = {"vocab": VOCAB, "block_size": BLOCK_SIZE}  # of the last model built: what get_batch draws


def causal_attention(q, k, v):
    """Scaled dot-product attention, each position attending to itself and the past."""
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


class Block(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.c_attn, self.c_proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        y = causal_attention(q, k, v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.c_proj(y)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, layers: int, heads: int, width: int, vocab: int, block_size: int):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(block_size, width)
        self.h = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        self.lm_head = nn.Linear(width, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying, as in GPT-2
        for name, p in self.named_parameters():
            if p.dim() >= 2:  # nanoGPT: N(0, 0.02); residual projections shrunk with depth
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("c_proj.weight", "mlp.2.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def build_model(layers=5, heads=4, width=128, vocab=VOCAB, block_size=BLOCK_SIZE):
    _shape.update(vocab=vocab, block_size=block_size)
    return GPT(layers, heads, width, vocab, block_size)


def _tokens(batch_size, seed):
    """Learnable text: each token is the previous one plus 1, 2 or 3 (mod vocab), so the best
    loss is ln 3 and training has something to find."""
    g = torch.Generator().manual_seed(seed)
    start = torch.randint(0, _shape["vocab"], (batch_size, 1), generator=g)
    steps = torch.randint(1, 4, (batch_size, _shape["block_size"]), generator=g)
    tokens = torch.cat([start, start + steps.cumsum(dim=1)], dim=1) % _shape["vocab"]
    return tokens[:, :-1], tokens[:, 1:]


def get_batch(batch_size, split="train"):
    return _tokens(batch_size, {"train": 0, "test": 1}[split])


def get_train_batch(batch_size, step):
    """A fresh batch per step (seeds 1000 and up: never the fixed train or test batch)."""
    return _tokens(batch_size, 1000 + step)
