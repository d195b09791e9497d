"""Bug: the first block runs under torch.no_grad() (copied from an inference path), so it is never trained."""

import torch
from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


class FrozenByAccident(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = nn.Sequential(nn.Linear(16, 64), nn.ReLU())
        self.block2 = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, num_classes)

    def forward(self, x):
        with torch.no_grad():  # the bug: no graph is recorded for block1
            h = self.block1(x)
        return self.head(self.block2(h))


def build_model():
    return FrozenByAccident()
