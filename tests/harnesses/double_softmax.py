"""Bug: softmax inside the model, then cross-entropy applies log-softmax again.

Accuracy on the batch still reaches 100 %, but the loss cannot fall below ~0.74 (4 classes)."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, num_classes), nn.Softmax(dim=-1))
