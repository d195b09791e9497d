"""The overhead benchmark's model: an MLP whose Adam step on 64 examples takes a few
milliseconds on one CPU thread, so that 500 steps are long enough to time and short
enough that any per-step cost of the tool (a host sync, JSON, progress) would show."""

import torch
from torch import nn

IN, HIDDEN, CLASSES = 256, 640, 10


def build_model():
    return nn.Sequential(
        nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES)
    )


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    x = torch.randn(batch_size, IN, generator=g)
    return x, torch.randint(0, CLASSES, (batch_size,), generator=g)
