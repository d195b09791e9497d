"""Bug: the logits are multiplied by 100 (a temperature applied the wrong way round), so the
loss at init is far above ln(4): the model starts out confidently wrong."""

import clean_mlp
from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


class ScaledLogits(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = clean_mlp.build_model()

    def forward(self, x):
        return self.net(x) * 100.0  # the bug: meant / temperature with temperature 100, or no scaling at all


def build_model():
    return ScaledLogits()
