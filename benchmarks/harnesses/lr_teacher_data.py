"""Shared data of the LR-finder problems: a fresh batch per step, the same for every run.

Classification: 16 Gaussian features, labels from a fixed random linear teacher (4 classes).
Regression: targets from a fixed random tanh network, plus a little noise."""

import torch

FEATURES, CLASSES = 16, 4
_TEACHER = torch.randn(FEATURES, CLASSES, generator=torch.Generator().manual_seed(42))
_REG_W1 = torch.randn(FEATURES, 32, generator=torch.Generator().manual_seed(43)) / FEATURES**0.5
_REG_W2 = torch.randn(32, 1, generator=torch.Generator().manual_seed(44)) / 32**0.5


def _inputs(batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Generator]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch_size, FEATURES, generator=g), g


def classification(batch_size: int, seed: int):
    x, _ = _inputs(batch_size, seed)
    return x, (x @ _TEACHER).argmax(dim=1)


def regression(batch_size: int, seed: int):
    x, g = _inputs(batch_size, seed)
    y = torch.tanh(x @ _REG_W1) @ _REG_W2
    return x, y + 0.05 * torch.randn(y.shape, generator=g)


def split_seed(split: str) -> int:
    return {"train": 10_000_000, "test": 20_000_000}[split]
