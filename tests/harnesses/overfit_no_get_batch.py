"""Bug: the data function is called load_data instead of get_batch, so the harness breaks the contract."""

import torch
from clean_mlp import build_model, num_classes  # noqa: F401


def load_data(batch_size: int, split: str = "train"):
    x = torch.randn(batch_size, 16, generator=torch.Generator().manual_seed(0))
    return x, x[:, :num_classes].argmax(dim=1)
