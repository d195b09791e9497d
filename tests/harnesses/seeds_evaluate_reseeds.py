"""Bug: evaluate() calls torch.manual_seed(0) for a reproducible test set, which puts the global RNG of
every seed back on one stream; get_train_batch draws from that global RNG (evaluate_reseeds)."""

import torch
from seeds_clean import TEACHER, build_model, get_batch, num_classes  # noqa: F401
from torch import nn


def get_train_batch(batch_size: int, step: int):
    x = torch.randn(batch_size, 16)  # the global RNG, seeded per seed by the worker
    return x, (x @ TEACHER).argmax(dim=1)


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    torch.manual_seed(0)
    x = torch.randn(256, 16)
    return {"accuracy": (model(x).argmax(dim=1) == (x @ TEACHER).argmax(dim=1)).float().mean().item() * 100}
