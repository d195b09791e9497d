"""Data of the held-out LR-finder problems (benchmarks/lr_problems.py HELD_OUT): kinds the tuned
eleven do not have. A fresh batch per step, the same for every run.

Spirals: 3 interleaved 2-D spiral arms with noise, lifted to 8 features by a fixed random map.
Bars: 8x8 images of one oriented bar (horizontal, vertical, two diagonals) at a random offset,
plus pixel noise. Sequences: 12 noisy steps; the target is an alternating-sign weighted sum."""

import math

import torch

SPIRAL_FEATURES, SPIRAL_CLASSES = 8, 3
BAR_SIZE, BAR_CLASSES = 8, 4
SEQ_LENGTH = 12
_LIFT = torch.randn(2, SPIRAL_FEATURES, generator=torch.Generator().manual_seed(11))
_SIGNS = torch.tensor([(-1.0) ** t * (1 + t / SEQ_LENGTH) for t in range(SEQ_LENGTH)]) / SEQ_LENGTH**0.5


def spirals(batch_size: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, SPIRAL_CLASSES, (batch_size,), generator=g)
    radius = torch.rand(batch_size, generator=g)
    angle = 3 * radius + 2 * math.pi * labels / SPIRAL_CLASSES + 0.2 * torch.randn(batch_size, generator=g)
    points = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=1)
    return torch.tanh(2 * points @ _LIFT), labels


def bars(batch_size: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, BAR_CLASSES, (batch_size,), generator=g)
    offset = torch.randint(-2, 3, (batch_size,), generator=g)
    i = torch.arange(BAR_SIZE)
    rows, cols = i[:, None].expand(BAR_SIZE, BAR_SIZE), i[None, :].expand(BAR_SIZE, BAR_SIZE)
    lines = torch.stack([rows, cols, rows - cols, rows + cols - (BAR_SIZE - 1)])  # one coordinate per orientation
    images = (lines[labels] == offset[:, None, None]).float()
    return (images + 0.3 * torch.randn(images.shape, generator=g))[:, None], labels


def sequences(batch_size: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, SEQ_LENGTH, 1, generator=g)
    y = (x[:, :, 0] * _SIGNS).sum(dim=1, keepdim=True)
    return x, y + 0.05 * torch.randn(y.shape, generator=g)


def split_seed(split: str) -> int:
    return {"train": 50_000_000, "test": 60_000_000}[split]
