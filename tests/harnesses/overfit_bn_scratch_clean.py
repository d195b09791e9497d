"""Clean twin: an MLP with a from-scratch BatchNorm that keeps its running statistics the way
nn.BatchNorm1d does. Inputs are offset and scaled, so the statistics are far from the initial 0/1.
run_overfit_test must find no train/eval gap and no frozen buffer at any size."""

import torch
from clean_mlp import get_batch as teacher_batch, num_classes  # the clean twin's task
from torch import nn


class ScratchBatchNorm(nn.Module):
    unbiased_running_var = True  # as nn.BatchNorm1d keeps it; the batch itself is normalised by the biased one

    def __init__(self, features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(features))
        self.bias = nn.Parameter(torch.zeros(features))
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))

    def update(self, mean: torch.Tensor, var: torch.Tensor) -> None:
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)

    def forward(self, x):  # x: (B, F)
        if self.training:
            mean, var = x.mean(dim=0), x.var(dim=0, correction=0)
            self.update(mean, x.var(dim=0) if self.unbiased_running_var else var)
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


def build_model():
    return nn.Sequential(nn.Linear(16, 64), ScratchBatchNorm(64), nn.ReLU(), nn.Linear(64, num_classes))


def get_batch(batch_size: int, split: str = "train"):
    x, y = teacher_batch(batch_size, split)
    return 3.0 + 2.0 * x, y  # features far from the running statistics' initial 0/1
