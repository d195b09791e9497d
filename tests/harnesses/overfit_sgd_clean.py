"""Clean twin of overfit_no_zero_grad.py: a small MLP regressor (MSE on a smooth teacher) trained with plain
SGD and a correct train_step. It memorises 1, 10 and 100 examples at lr=0.1."""

import torch
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 1))


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    teacher = torch.randn(16, 1, generator=torch.Generator().manual_seed(42))
    x = torch.randn(batch_size, 16, generator=g)
    return x, torch.tanh(x @ teacher / 4)  # (B, 1) float targets: the default loss is MSE


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr)


def train_step(model, batch, optimizer):
    optimizer.zero_grad()
    x, y = batch
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    return loss
