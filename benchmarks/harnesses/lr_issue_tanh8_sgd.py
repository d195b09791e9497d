"""Issue-shaped LR problem: an 8-layer tanh MLP (width 64, default init, no normalisation) classifying
Gaussian inputs labelled by a fixed random teacher network (4 classes), plain SGD."""

import torch
from lr_issue_data import TEACHER_CLASSES, TEACHER_FEATURES, split_seed, teacher
from torch import nn

num_classes = TEACHER_CLASSES
WIDTH, DEPTH = 64, 8  # DEPTH Linear layers, tanh between


def build_model():
    sizes = [TEACHER_FEATURES] + [WIDTH] * (DEPTH - 1) + [TEACHER_CLASSES]
    layers = []
    for i in range(DEPTH):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < DEPTH - 1:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def get_batch(batch_size: int, split: str = "train"):
    return teacher(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return teacher(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr)
