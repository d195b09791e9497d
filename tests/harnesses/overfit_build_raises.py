"""Bug: build_model wires the second layer with the wrong input size; the shape check raises inside build_model."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


def build_model(hidden: int = 64):
    first = nn.Linear(16, hidden)
    second = nn.Linear(2 * hidden, num_classes)  # the bug: should be nn.Linear(hidden, num_classes)
    if second.in_features != first.out_features:
        raise ValueError(f"layer sizes do not chain: {first.out_features} -> {second.in_features}")
    return nn.Sequential(first, nn.ReLU(), second)
