"""Clean, slow learner for lr_sweep: a 10-layer tanh MLP under plain SGD on Gaussian blobs.

Correct code, but a 100-step range test lowers its loss by about 1%: deep, saturating and
without momentum, it trains only near the top of the range, and only over longer runs. A
range test must call that inconclusive, never no_stable_lr."""

import torch
from torch import nn

num_classes = 3
FEATURES, DEPTH, WIDTH = 10, 10, 32
_CENTRES = 0.8 * torch.randn(num_classes, FEATURES, generator=torch.Generator().manual_seed(7))


def build_model(batchnorm: bool = False, activation: type[nn.Module] = nn.Tanh, depth: int = DEPTH):
    layers, width = [], FEATURES
    for _ in range(depth - 1):
        layers += [nn.Linear(width, WIDTH), *([nn.BatchNorm1d(WIDTH)] if batchnorm else []), activation()]
        width = WIDTH
    return nn.Sequential(*layers, nn.Linear(width, num_classes))


def _blobs(batch_size: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (batch_size,), generator=g)
    return _CENTRES[labels] + torch.randn(batch_size, FEATURES, generator=g), labels


def get_batch(batch_size: int, split: str = "train"):
    return _blobs(batch_size, {"train": 0, "test": 1}[split])


def get_train_batch(batch_size: int, step: int):
    return _blobs(batch_size, 1000 + step)


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr)
