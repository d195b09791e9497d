"""Bug: the deep tanh MLP's weights are drawn from N(0, 1) instead of scaled to the fan-in.

With 64 inputs per unit every hidden pre-activation has std ~8: tanh sits at +-1, where its
gradient is ~0, and the logits start huge."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from init_clean_tanh import tanh_mlp
from torch import nn


def build_model():
    model = tanh_mlp()
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=1.0)  # the bug: should be ~1/sqrt(fan_in)
    return model
