"""Bug: feature 3 of this table has missing values (NaN in about 10% of rows) that were
never imputed; every other feature is standardised."""

import torch
from clean_mlp import build_model, num_classes  # noqa: F401 - the harness exports them


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    x = torch.randn(batch_size, 16, generator=g)
    missing = torch.rand(batch_size, generator=g) < 0.1
    x[missing, 3] = float("nan")  # bug: missing values left in place
    return x, torch.randint(0, num_classes, (batch_size,), generator=g)
