"""A run whose evaluate returns 4,000 metrics with 200-character names and whose loss has 300 named
terms: at 41 evaluations that is a 35 MB history, over what the server reads back."""

import torch
from clean_mlp import build_model, get_batch, num_classes  # noqa: F401
from torch import nn
from train_clean import get_train_batch  # noqa: F401

objective = {"monitor": "accuracy", "mode": "max"}
NAMES = [f"probe_{i:04d}_" + "x" * 189 for i in range(4000)]


def loss_fn(model: nn.Module, batch):
    x, y = batch
    total = nn.functional.cross_entropy(model(x), y)
    return {"loss": total, **{f"term_{i}": total.detach() * 0 + i for i in range(300)}}


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    x, y = get_batch(256, "test")
    accuracy = (model(x).argmax(dim=1) == y).float().mean().item() * 100
    return {**{name: float(i) for i, name in enumerate(NAMES)}, "accuracy": accuracy}
