"""LR problem: a 10-layer tanh MLP (width 32, PyTorch's default init) on blobs, plain SGD.

Deep, saturating and without momentum: it learns slowly at every rate a range test passes
through, the case where a range test sees too little learning."""

import torch
from lr_field_data import BLOB_CLASSES, BLOB_FEATURES, blobs, split_seed
from torch import nn

num_classes = BLOB_CLASSES
DEPTH, WIDTH = 10, 32


def build_model():
    layers, width = [], BLOB_FEATURES
    for _ in range(DEPTH - 1):
        layers += [nn.Linear(width, WIDTH), nn.Tanh()]
        width = WIDTH
    return nn.Sequential(*layers, nn.Linear(width, BLOB_CLASSES))


def get_batch(batch_size: int, split: str = "train"):
    return blobs(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return blobs(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr)
