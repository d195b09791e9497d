"""Bug: scikit-learn's 8x8 digits fed as stored, whole numbers 0..16 in float32 (B, 64). Their
mean (~4.9) and std (~6.0) look harmless; inspect_data must still call them raw pixels."""

import torch
from torch import nn

num_classes = 10


def build_model():
    return nn.Sequential(nn.Linear(64, 32), nn.Sigmoid(), nn.Linear(32, num_classes))


def get_batch(batch_size: int, split: str = "train"):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32)  # bug: no / 16, no standardisation
    y = torch.tensor(digits.target)
    rows = slice(0, 1400) if split == "train" else slice(1400, None)
    return x[rows][:batch_size], y[rows][:batch_size]
