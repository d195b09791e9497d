"""Bug: an L2 norm written as sqrt(sum(h**2)) without eps. Padding rows are all zero, so the forward is finite
(sqrt(0) = 0) but the backward of sqrt at 0 is inf, and 0 * inf turns the gradients into NaN."""

import torch
from clean_mlp import get_batch as clean_batch, num_classes
from torch import nn


class NormFeature(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(16, 8, bias=False)
        self.out = nn.Linear(9, num_classes)

    def forward(self, x):
        h = self.proj(x)
        norm = h.pow(2).sum(dim=-1, keepdim=True).sqrt()  # the bug: sqrt(0) has an infinite derivative
        return self.out(torch.cat([h, norm], dim=-1))


def build_model():
    return NormFeature()


def get_batch(batch_size: int, split: str = "train"):
    x, y = clean_batch(batch_size, split)
    x[::4] = 0.0  # every fourth example is padding
    return x, y
