"""LR problem: an MLP regressor (MSE) trained with Adam."""

from lr_teacher_data import FEATURES, regression, split_seed
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(FEATURES, 64), nn.Tanh(), nn.Linear(64, 1))


def get_batch(batch_size: int, split: str = "train"):
    return regression(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return regression(batch_size, step)
