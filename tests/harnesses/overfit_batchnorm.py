"""Clean model with BatchNorm1d. It memorises 10 and 100 examples, but a batch of 1 cannot be normalised in
training mode (one value per channel), so size 1 must be reported as user_code_error without hiding the others."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(16, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, num_classes))
