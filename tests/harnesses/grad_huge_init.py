"""Bug: a deep ReLU MLP initialised with N(0, 1) weights instead of N(0, 2/fan_in); every layer multiplies the
activation scale by ~sqrt(fan_in/2) = 5.7, so logits and gradients reach ~1e7."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


def build_model(depth: int = 10, width: int = 64):
    layers = [nn.Linear(16, width), nn.ReLU()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(width, num_classes))
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=1.0)  # the bug: std should be sqrt(2 / fan_in)
            nn.init.zeros_(module.bias)
    return model
