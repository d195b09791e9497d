"""Clean twin for seed independence: get_train_batch takes the run's seed and mixes it into its
generator, so every seed of a run trains on its own batches; evaluate draws from its own generator."""

import torch
from clean_mlp import build_model, get_batch, num_classes  # noqa: F401
from torch import nn

TEACHER = torch.randn(16, num_classes, generator=torch.Generator().manual_seed(42))


def get_train_batch(batch_size: int, step: int, seed: int = 0):
    x = torch.randn(batch_size, 16, generator=torch.Generator().manual_seed(1_000_003 * seed + step))
    return x, (x @ TEACHER).argmax(dim=1)


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    x = torch.randn(256, 16, generator=torch.Generator().manual_seed(7))
    return {"accuracy": (model(x).argmax(dim=1) == (x @ TEACHER).argmax(dim=1)).float().mean().item() * 100}
