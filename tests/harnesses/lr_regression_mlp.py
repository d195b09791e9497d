"""Clean twin for lr_sweep: an MLP regressing a smooth teacher function with the default MSE loss.

Training batches are fresh samples every step (get_train_batch), so the loss curve is noisy
the way real data makes it."""

import torch
from torch import nn

_TEACHER = torch.randn(8, 2, generator=torch.Generator().manual_seed(42)) / 8**0.5


def build_model(hidden: int = 64):
    return nn.Sequential(nn.Linear(8, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def _sample(batch_size: int, seed: int):
    x = torch.randn(batch_size, 8, generator=torch.Generator().manual_seed(seed))
    z = x @ _TEACHER  # (B, 2)
    return x, torch.sin(2 * z[:, :1]) + 0.5 * torch.tanh(3 * z[:, 1:])


def get_batch(batch_size: int, split: str = "train"):
    return _sample(batch_size, {"train": 0, "test": 1}[split])


def get_train_batch(batch_size: int, step: int):
    return _sample(batch_size, 1000 + step)
