"""LR problem: a small CNN on 1-D signals (class = which of 3 frequencies), SGD with momentum."""

import math

import torch
from torch import nn

LENGTH, CLASSES = 32, 3
num_classes = CLASSES


def build_model():
    return nn.Sequential(
        nn.Conv1d(1, 8, 5, padding=2),
        nn.ReLU(),
        nn.Conv1d(8, 8, 5, padding=2),
        nn.ReLU(),
        nn.AdaptiveAvgPool1d(4),
        nn.Flatten(),
        nn.Linear(32, CLASSES),
    )


def _signals(batch_size: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (batch_size,), generator=g)
    phase = 2 * math.pi * torch.rand(batch_size, 1, generator=g)
    t = torch.arange(LENGTH).float()
    wave = torch.sin((labels[:, None] + 1) * 2 * math.pi * t / LENGTH + phase)
    return (wave + 0.5 * torch.randn(batch_size, LENGTH, generator=g))[:, None, :], labels


def get_batch(batch_size: int, split: str = "train"):
    return _signals(batch_size, {"train": 10_000_000, "test": 20_000_000}[split])


def get_train_batch(batch_size: int, step: int):
    return _signals(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr, momentum=0.9)
