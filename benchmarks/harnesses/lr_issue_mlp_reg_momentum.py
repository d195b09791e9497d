"""Issue-shaped LR problem: a SiLU MLP regressor of a smooth 10-feature ridge target (MSE), SGD with momentum 0.9."""

import torch
from lr_issue_data import RIDGE_FEATURES, ridge, split_seed
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(RIDGE_FEATURES, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 1))


def get_batch(batch_size: int, split: str = "train"):
    return ridge(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return ridge(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr, momentum=0.9)
