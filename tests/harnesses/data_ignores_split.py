"""Bug: get_batch ignores its split argument, so "test" returns the training examples and
every test metric is a training metric."""

import torch
from clean_mlp import build_model, num_classes  # noqa: F401 - the harness exports them


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed(0)  # bug: should depend on split
    teacher = torch.randn(16, num_classes, generator=torch.Generator().manual_seed(42))
    x = torch.randn(batch_size, 16, generator=g)
    return x, (x @ teacher).argmax(dim=1)
