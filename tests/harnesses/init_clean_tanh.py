"""Clean twin: a 6-layer tanh MLP with Xavier (Glorot) init and zero biases, on clean_mlp's data."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


def tanh_mlp(depth: int = 6, width: int = 64) -> nn.Sequential:
    layers, features = [], 16
    for _ in range(depth):
        layers += [nn.Linear(features, width), nn.Tanh()]
        features = width
    return nn.Sequential(*layers, nn.Linear(width, num_classes))


def build_model():
    model = tanh_mlp()
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return model
