"""Held-out LR problem: a small 2-D CNN (max-pooling) classifying oriented bars, SGD with momentum 0.9."""

import torch
from lr_heldout_data import BAR_CLASSES, bars, split_seed
from torch import nn

num_classes = BAR_CLASSES


def build_model():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4, BAR_CLASSES),
    )


def get_batch(batch_size: int, split: str = "train"):
    return bars(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return bars(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr, momentum=0.9)
