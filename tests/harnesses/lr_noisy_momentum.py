"""Clean, noisy learner for lr_sweep: a ReLU MLP regressing products of uniform features, SGD with
momentum 0.9.

Correct code, but its batch losses spread widely (a batch of 32 of a target whose square has a
long tail), so a 100-step range test shows no fall beyond that noise; its loss only rises, gently,
over the last two decades, and 200-step runs still train best near where it rose. A range test must
call that inconclusive and read the clear rise, not the first random crossing of its start."""

import torch
from torch import nn

FEATURES = 8


def build_model():
    return nn.Sequential(nn.Linear(FEATURES, 48), nn.ReLU(), nn.Linear(48, 48), nn.ReLU(), nn.Linear(48, 1))


def _products(batch_size: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch_size, FEATURES, generator=g) * 2 - 1
    y = 2 * x[:, 0] * x[:, 1] + 1.5 * (x[:, 2] + x[:, 3]) ** 2 + torch.sin(3 * x[:, 4]) * x[:, 5] - 1
    return x, (y + 0.05 * torch.randn(batch_size, generator=g))[:, None]


def get_batch(batch_size: int, split: str = "train"):
    return _products(batch_size, {"train": 0, "test": 1}[split])


def get_train_batch(batch_size: int, step: int):
    return _products(batch_size, 5000 + step)


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr, momentum=0.9)
