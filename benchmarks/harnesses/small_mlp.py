"""The warm-call benchmark's model: a small MLP classifier, cheap enough that a call's
latency is the worker's start-up, not the check. WIDTH is edited by the benchmark to
prove that every call loads the harness afresh."""

import torch
from torch import nn

WIDTH = 64
num_classes = 4


def build_model():
    return nn.Sequential(
        nn.Linear(16, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH), nn.ReLU(), nn.Linear(WIDTH, num_classes)
    )


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    teacher = torch.randn(16, num_classes, generator=torch.Generator().manual_seed(42))
    x = torch.randn(batch_size, 16, generator=g)
    return x, (x @ teacher).argmax(dim=1)
