"""LR problem: a ReLU MLP regressing Friedman #1 (MSE), SGD with momentum 0.9."""

import torch
from lr_field_data import FRIEDMAN_FEATURES, friedman, split_seed
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(FRIEDMAN_FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))


def get_batch(batch_size: int, split: str = "train"):
    return friedman(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return friedman(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr, momentum=0.9)
