"""Bug: a 10-layer ReLU MLP initialised with N(0, 0.01) weights and zero biases ("small random
numbers"). With 64 inputs per unit each layer multiplies the signal by ~0.06: after ten layers the
output no longer depends on the input (vanishing activations)."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


def build_model(depth: int = 10, width: int = 64):
    layers, features = [], 16
    for _ in range(depth):
        layers += [nn.Linear(features, width), nn.ReLU()]
        features = width
    model = nn.Sequential(*layers, nn.Linear(width, num_classes))
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=0.01)  # the bug: should be ~sqrt(2/fan_in) = 0.18
            nn.init.zeros_(layer.bias)
    return model
