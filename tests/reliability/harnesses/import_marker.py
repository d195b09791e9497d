"""Records which process imported it, at import time: the server must never import a harness."""

import os

import torch
from torch import nn

with open("imported_by.pid", "a") as f:
    f.write(f"{os.getpid()}\n")


def build_model():
    return nn.Linear(4, 2)


def get_batch(batch_size: int, split: str = "train"):
    return torch.zeros(batch_size, 4), torch.zeros(batch_size, dtype=torch.long)
