"""Issue-shaped LR problem: a 2-layer causal transformer (token embedding + learned positions,
d_model 48, 4 heads) predicting the next token of Fibonacci sequences mod 16, AdamW (weight decay 0.05).
Logits (batch, T, vocab) against int64 targets (batch, T): the default cross-entropy."""

import torch
from lr_issue_data import FIB_LENGTH, FIB_VOCAB, fibonacci, split_seed
from torch import nn

D_MODEL, HEADS, LAYERS = 48, 4, 2
CONTEXT = FIB_LENGTH - 1


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(FIB_VOCAB, D_MODEL)
        self.position = nn.Parameter(0.02 * torch.randn(CONTEXT, D_MODEL))
        layer = nn.TransformerEncoderLayer(
            D_MODEL, HEADS, dim_feedforward=4 * D_MODEL, dropout=0.0, batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, FIB_VOCAB)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(CONTEXT), persistent=False)

    def forward(self, tokens):
        t = tokens.shape[1]
        h = self.embed(tokens) + self.position[:t]
        h = self.blocks(h, mask=self.mask[:t, :t], is_causal=True)
        return self.head(self.norm(h))


def build_model():
    return Model()


def get_batch(batch_size: int, split: str = "train"):
    return fibonacci(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return fibonacci(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
