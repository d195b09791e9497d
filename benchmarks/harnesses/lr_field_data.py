"""Data of the second set of LR-finder problems (our own, unlike the held-out set's): a fresh
batch per step, the same for every run.

Blobs: 3 overlapping Gaussian clusters in 10-D (the class). Friedman #1:
y = 10 sin(pi x1 x2) + 20 (x3 - 1/2)^2 + 10 x4 + 5 x5 + noise over 10 uniform inputs (x6..x10 are distractors),
standardised to unit scale."""

import math

import torch

BLOB_FEATURES, BLOB_CLASSES, FRIEDMAN_FEATURES = 10, 3, 10
_CENTRES = 0.8 * torch.randn(
    BLOB_CLASSES, BLOB_FEATURES, generator=torch.Generator().manual_seed(7)
)  # overlapping blobs


def blobs(batch_size: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, BLOB_CLASSES, (batch_size,), generator=g)
    return _CENTRES[labels] + torch.randn(batch_size, BLOB_FEATURES, generator=g), labels


def friedman(batch_size: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch_size, FRIEDMAN_FEATURES, generator=g)
    y = 10 * torch.sin(math.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2 + 10 * x[:, 3] + 5 * x[:, 4]
    y = y + torch.randn(batch_size, generator=g)
    return (x - 0.5) * 12**0.5, ((y - 14.4) / 5.0)[:, None]  # inputs and targets at about unit scale


def split_seed(split: str) -> int:
    return {"train": 30_000_000, "test": 40_000_000}[split]
