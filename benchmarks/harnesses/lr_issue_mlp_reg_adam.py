"""Issue-shaped LR problem: a ReLU MLP regressor of a 2-output target of 8 Gaussian features (a gated
product and a radial bump; MSE), Adam."""

import torch
from lr_issue_data import BUMP_FEATURES, BUMP_OUTPUTS, bumps, split_seed
from torch import nn


def build_model():
    return nn.Sequential(
        nn.Linear(BUMP_FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, BUMP_OUTPUTS)
    )


def get_batch(batch_size: int, split: str = "train"):
    return bumps(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return bumps(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.Adam(params, lr=lr)
