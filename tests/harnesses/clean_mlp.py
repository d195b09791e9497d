"""Clean twin: a small MLP classifier on a learnable teacher task. Every tool must pass it."""

import torch
from torch import nn

num_classes = 4


def build_model(hidden: int = 64):
    return nn.Sequential(
        nn.Linear(16, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
    )


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    teacher = torch.randn(16, num_classes, generator=torch.Generator().manual_seed(42))
    x = torch.randn(batch_size, 16, generator=g)
    return x, (x @ teacher).argmax(dim=1)
