"""LR problem: a one-layer causal transformer learning to copy tokens (Adam).

Each sequence is 8 random tokens, then the same 8 again; the loss is next-token
cross-entropy, so the second half is learnable by attending back 8 positions."""

import torch
from torch import nn

VOCAB, HALF, DIM = 16, 8, 32
SEQ = 2 * HALF


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM)
        self.position = nn.Parameter(0.02 * torch.randn(SEQ - 1, DIM))
        self.block = nn.TransformerEncoderLayer(DIM, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
        self.head = nn.Linear(DIM, VOCAB)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(SEQ - 1))

    def forward(self, tokens):  # (B, T) -> (B, T, VOCAB)
        h = self.embed(tokens) + self.position
        return self.head(self.block(h, src_mask=self.mask, is_causal=True))


def build_model():
    return TinyTransformer()


def _copy_task(batch_size: int, seed: int):
    half = torch.randint(0, VOCAB, (batch_size, HALF), generator=torch.Generator().manual_seed(seed))
    sequence = torch.cat([half, half], dim=1)
    return sequence[:, :-1], sequence[:, 1:]


def get_batch(batch_size: int, split: str = "train"):
    return _copy_task(batch_size, {"train": 10_000_000, "test": 20_000_000}[split])


def get_train_batch(batch_size: int, step: int):
    return _copy_task(batch_size, step)
