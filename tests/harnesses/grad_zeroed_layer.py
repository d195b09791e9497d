"""Bug: a leftover debugging mask multiplies the second layer's output by 0, so every gradient before it is
exactly 0."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


class MaskedMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 64)
        self.fc2 = nn.Linear(64, 64)
        self.out = nn.Linear(64, num_classes)
        self.keep = 0.0  # the bug: meant as a dropout keep-probability, used as a multiplier

    def forward(self, x):
        h = self.fc1(x).relu()
        h = self.fc2(h).relu() * self.keep
        return self.out(h)


def build_model():
    return MaskedMLP()
