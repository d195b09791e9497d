"""Bug: get_batch indexes its split table with a misspelt key, so every call raises KeyError."""

import torch
from clean_mlp import build_model, num_classes  # noqa: F401 - same model as the clean twin

SEEDS = {"train": 0, "test": 1}


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed(SEEDS[split + "ing"])  # the bug: "training" is not a key
    x = torch.randn(batch_size, 16, generator=g)
    return x, x[:, :num_classes].argmax(dim=1)
