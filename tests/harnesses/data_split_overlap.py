"""Bug: the test slice starts 50 rows too early (data[750:] instead of data[800:]), so the
first 50 test examples are the last 50 training examples."""

import torch
from clean_mlp import build_model, num_classes  # noqa: F401 - the harness exports them

_g = torch.Generator().manual_seed(0)
DATA = torch.randn(1000, 16, generator=_g)
LABELS = (DATA @ torch.randn(16, num_classes, generator=_g)).argmax(dim=1)
SPLITS = {"train": slice(0, 800), "test": slice(750, 1000)}  # bug: test should start at 800


def get_batch(batch_size: int, split: str = "train"):
    rows = SPLITS[split]
    return DATA[rows][:batch_size], LABELS[rows][:batch_size]
