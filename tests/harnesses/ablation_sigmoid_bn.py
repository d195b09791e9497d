"""Clean: a 3 x 32 sigmoid MLP trained by plain SGD, with a batch_norm switch (Ioffe & Szegedy's
ablation in miniature). Without BN it learns slowly; with BN, fast. run_ablation from the
no-BN baseline must call BN a component that helps, never a bug to fix."""

import torch
from torch import nn

num_classes = 4
objective = {"monitor": "test_accuracy", "mode": "max"}
TEACHER = torch.randn(16, num_classes, generator=torch.Generator().manual_seed(42))


def _data(split: str, n: int):
    x = torch.randn(n, 16, generator=torch.Generator().manual_seed({"train": 0, "test": 1}[split]))
    return x, (x @ TEACHER).argmax(dim=1)


def build_model(batch_norm: bool = False, hidden: int = 32):
    layers, width = [], 16
    for _ in range(3):
        layers += [nn.Linear(width, hidden)] + ([nn.BatchNorm1d(hidden)] if batch_norm else []) + [nn.Sigmoid()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, num_classes))


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr)


def get_batch(batch_size: int, split: str = "train"):
    return _data(split, batch_size)


def get_train_batch(batch_size: int, step: int, seed: int = 0):
    x, y = _data("train", 1024)
    pick = torch.randperm(1024, generator=torch.Generator().manual_seed(step + 1_000_003 * seed))[:batch_size]
    return x[pick], y[pick]


@torch.no_grad()
def evaluate(model):
    model.eval()
    x, y = _data("test", 512)
    accuracy = (model(x).argmax(1) == y).float().mean().item()
    model.train()
    return {"test_accuracy": accuracy}
