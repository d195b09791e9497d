"""Clean twin for training runs: a linear-separable task with get_train_batch and evaluate."""

import torch
from clean_mlp import build_model, get_batch, num_classes  # noqa: F401
from torch import nn

objective = {"monitor": "accuracy", "mode": "max"}


def get_train_batch(batch_size: int, step: int, seed: int = 0):
    g = torch.Generator().manual_seed(1000 + step + 1_000_003 * seed)  # a new batch every step and seed, reproducible
    teacher = torch.randn(16, num_classes, generator=torch.Generator().manual_seed(42))
    x = torch.randn(batch_size, 16, generator=g)
    return x, (x @ teacher).argmax(dim=1)


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    x, y = get_batch(512, "test")
    return {"accuracy": (model(x).argmax(dim=1) == y).float().mean().item() * 100}
