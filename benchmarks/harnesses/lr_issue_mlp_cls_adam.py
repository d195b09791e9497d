"""Issue-shaped LR problem: a ReLU MLP (2 hidden layers) classifying a 7-class XOR-like Gaussian mixture, Adam."""

import torch
from lr_issue_data import MIX_CLASSES, MIX_FEATURES, mixture, split_seed
from torch import nn

num_classes = MIX_CLASSES


def build_model():
    return nn.Sequential(
        nn.Linear(MIX_FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, MIX_CLASSES)
    )


def get_batch(batch_size: int, split: str = "train"):
    return mixture(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return mixture(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.Adam(params, lr=lr)
