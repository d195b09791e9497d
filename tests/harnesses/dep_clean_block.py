"""Clean twin: one pre-norm transformer block on float sequences (B, T, C), causal attention
through nn.MultiheadAttention (batch_first=True) and a boolean future mask.

check_dependencies must report nothing in mode="both"."""

import torch
from torch import nn

SEQ_LEN, WIDTH = 8, 16


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.attn = nn.MultiheadAttention(WIDTH, num_heads=4, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C)
        T = x.shape[1]
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=future, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


def build_model():
    return Block()


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    x = torch.randn(batch_size, SEQ_LEN, WIDTH, generator=g)
    return x, x.roll(-1, dims=1)
