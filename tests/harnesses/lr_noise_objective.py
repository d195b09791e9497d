"""A grid whose objective is noise: the labels are random, so no rate can learn them, and the test
accuracy on 32 examples moves by a few points from run to run. lr_sweep must not rank the rates
with high confidence (their scores differ by noise)."""

import torch
from clean_mlp import build_model, num_classes  # noqa: F401

objective = {"monitor": "accuracy", "mode": "max"}


def _data(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 16, generator=g), torch.randint(0, num_classes, (n,), generator=g)


def get_batch(batch_size: int, split: str = "train"):
    return _data(batch_size, {"train": 0, "test": 1}[split])


def get_train_batch(batch_size: int, step: int, seed: int = 0):
    return _data(batch_size, 1000 + step + 1_000_003 * seed)


@torch.no_grad()
def evaluate(model) -> dict[str, float]:
    x, y = _data(32, 1)
    return {"accuracy": (model(x).argmax(dim=1) == y).float().mean().item() * 100}
