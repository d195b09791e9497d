"""LR problem: a 2-layer causal transformer reversing a sequence (AdamW, weight decay 0.01).

Each sequence is 8 random tokens, a separator, then the 8 reversed; next-token cross-entropy,
so position 8 + i must attend back to token 7 - i: a different offset at every position."""

import torch
from torch import nn

VOCAB, HALF, DIM = 12, 8, 32
SEQ = 2 * HALF + 1  # tokens, separator, reversed tokens
SEPARATOR = VOCAB - 1


class Reverser(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.position = nn.Parameter(0.02 * torch.randn(SEQ - 1, DIM))
        layer = nn.TransformerEncoderLayer(DIM, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(DIM, VOCAB)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(SEQ - 1))

    def forward(self, tokens):  # (B, T) -> (B, T, VOCAB)
        h = self.embed(tokens) + self.position
        return self.head(self.blocks(h, mask=self.mask, is_causal=True))


def build_model():
    return Reverser()


def _sequences(batch_size: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    first = torch.randint(0, VOCAB - 1, (batch_size, HALF), generator=g)
    separator = torch.full((batch_size, 1), SEPARATOR)
    seq = torch.cat([first, separator, first.flip(1)], dim=1)  # (B, SEQ)
    targets = seq[:, 1:].clone()
    targets[:, : HALF - 1] = -100  # the first half is random: only the reversal is learnable
    return seq[:, :-1], targets


def get_batch(batch_size: int, split: str = "train"):
    return _sequences(batch_size, {"train": 50_000_000, "test": 60_000_000}[split])


def get_train_batch(batch_size: int, step: int):
    return _sequences(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
