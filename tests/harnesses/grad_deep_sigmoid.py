"""Bug: a 20-layer sigmoid MLP with no normalisation or residuals; sigmoid' <= 0.25 per layer makes the
first layers' gradients vanish (~1e-10 of the last layer's)."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


def build_model(depth: int = 20, width: int = 32):
    layers = [nn.Linear(16, width), nn.Sigmoid()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(width, num_classes))
