"""Clean: an MLP with BatchNorm1d. In training mode BatchNorm legitimately couples the
examples of a batch through its batch statistics; in eval mode it uses running
statistics, so check_dependencies (which runs in eval mode) must report nothing."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean MLP
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(16, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, num_classes))
