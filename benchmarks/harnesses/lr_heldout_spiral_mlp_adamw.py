"""Held-out LR problem: a GELU MLP classifier of spirals, AdamW with weight decay 0.05."""

import torch
from lr_heldout_data import SPIRAL_CLASSES, SPIRAL_FEATURES, spirals, split_seed
from torch import nn

num_classes = SPIRAL_CLASSES


def build_model():
    return nn.Sequential(
        nn.Linear(SPIRAL_FEATURES, 96), nn.GELU(), nn.Linear(96, 96), nn.GELU(), nn.Linear(96, SPIRAL_CLASSES)
    )


def get_batch(batch_size: int, split: str = "train"):
    return spirals(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return spirals(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
