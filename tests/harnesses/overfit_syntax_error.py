"""Bug: a syntax error (a missing closing parenthesis); the harness cannot even be imported."""

from torch import nn

from clean_mlp import get_batch, num_classes  # noqa: F401


def build_model():
    return nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, num_classes)
