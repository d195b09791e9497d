"""Bug: a denoising batch whose noise is one draw broadcast to every example, in a harness with no test
split (get_batch refuses it): the second draw inspect_data compares with comes from get_train_batch."""

import torch
from torch import nn

D = 4


def build_model():
    return nn.Linear(D, D)


def _batch(batch_size: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    return {
        "inputs": torch.randn(batch_size, D, generator=g),
        "noise": torch.randn(1, D, generator=g).expand(batch_size, D),
    }  # BUG: one draw for all


def get_batch(batch_size: int, split: str = "train"):
    if split != "train":
        raise ValueError(f"only a train split, not {split!r}")
    return _batch(batch_size, torch.Generator().manual_seed(0))


def get_train_batch(batch_size: int, step: int):
    return _batch(batch_size, torch.Generator().manual_seed(100 + step))


def loss_fn(model, batch):
    return nn.functional.mse_loss(model(batch["inputs"] + batch["noise"]), batch["noise"])
