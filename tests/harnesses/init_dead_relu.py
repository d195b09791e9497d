"""Bug: the hidden layers' biases are initialised to -5 ("sparse activations"), far below the
pre-activations' spread (~0.6): every ReLU unit is negative for every example, so it is dead."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


def build_model(hidden: int = 64):
    model = nn.Sequential(
        nn.Linear(16, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
    )
    for index in (0, 2):
        nn.init.constant_(model[index].bias, -5.0)  # the bug
    return model
