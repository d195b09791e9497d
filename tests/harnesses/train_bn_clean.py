"""Clean twin for BatchNorm bugs in training runs: an MLP with a from-scratch BatchNorm on
inputs far from zero mean and unit scale, so eval mode needs the running statistics."""

import torch
from overfit_bn_scratch_clean import ScratchBatchNorm
from torch import nn

num_classes = 4
objective = {"monitor": "accuracy", "mode": "max"}
SHIFT, SCALE = 3.0, 5.0  # raw features: what BatchNorm is there to fix


class BatchNorm(ScratchBatchNorm):
    unbiased_running_var = False  # the running variance is the batch's own (biased) one


def build_model(hidden: int = 32):
    return nn.Sequential(BatchNorm(16), nn.Linear(16, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))


def _data(batch_size: int, g: torch.Generator):
    teacher = torch.randn(16, num_classes, generator=torch.Generator().manual_seed(42))
    z = torch.randn(batch_size, 16, generator=g)
    return z * SCALE + SHIFT, (z @ teacher).argmax(dim=1)


def get_batch(batch_size: int, split: str = "train"):
    return _data(batch_size, torch.Generator().manual_seed({"train": 0, "test": 1}[split]))


def get_train_batch(batch_size: int, step: int, seed: int = 0):
    return _data(batch_size, torch.Generator().manual_seed(1000 + step + 1_000_003 * seed))


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    x, y = get_batch(512, "test")
    return {"accuracy": (model(x).argmax(dim=1) == y).float().mean().item() * 100}
