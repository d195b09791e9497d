"""Bug: get_batch draws from torch's global RNG instead of a seeded generator, so every
call returns different examples and every tool's numbers move between calls."""

import torch
from clean_mlp import build_model, num_classes  # noqa: F401 - the harness exports them

TEACHER = torch.randn(16, num_classes, generator=torch.Generator().manual_seed(42))


def get_batch(batch_size: int, split: str = "train"):
    x = torch.randn(batch_size, 16)  # bug: global RNG; use a torch.Generator seeded per split
    return x, (x @ TEACHER).argmax(dim=1)
