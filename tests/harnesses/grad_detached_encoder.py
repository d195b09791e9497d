"""Bug: the encoder's output is .detach()-ed before the head, so the encoder never gets a gradient."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


class DetachedEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(16, 64), nn.ReLU())
        self.head = nn.Linear(64, num_classes)

    def forward(self, x):
        features = self.encoder(x).detach()  # the bug: cuts the graph between head and encoder
        return self.head(features)


def build_model():
    return DetachedEncoder()
