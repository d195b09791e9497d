"""Clean: a tiny language model whose output layer shares the token embedding's weight (weight
tying, as in GPT-2). The shared 50x32 matrix is one tensor and counts once: 1,600 (embedding)
+ 2,112 (mlp.0) + 2,080 (mlp.2) + 64 (norm) + 50 (head bias) = 5,906 parameters."""

import torch
from torch import nn

vocab, width = 50, 32


class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)
        self.head.weight = self.embed.weight  # tied: one tensor, two modules

    def forward(self, tokens):  # (B, T) -> (B, T, vocab)
        h = self.embed(tokens)
        return self.head(self.norm(h + self.mlp(h)))


def build_model():
    return TiedLM()


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    tokens = torch.randint(0, vocab, (batch_size, 9), generator=g)
    return tokens[:, :-1], tokens[:, 1:]
