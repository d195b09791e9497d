"""Bug: a hand-written LayerNorm normalises over the batch dimension (dim=0) instead of
the feature dimension (dim=-1), so every example's output depends on the whole batch.

It trains, but predictions change with whatever else is in the batch.
check_dependencies(mode="batch") reports batch_dependence in `norm`."""

import torch
from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean MLP
from torch import nn


class MyLayerNorm(nn.Module):
    def __init__(self, width: int, eps: float = 1e-5):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=0, keepdim=True)  # BUG: dim=-1
        var = x.var(dim=0, keepdim=True, unbiased=False)  # BUG: dim=-1
        return self.gain * (x - mean) / torch.sqrt(var + self.eps) + self.bias


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.norm = MyLayerNorm(32)
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.norm(self.fc1(x))))


def build_model():
    return Net()
