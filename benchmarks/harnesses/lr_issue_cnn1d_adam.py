"""Issue-shaped LR problem: a 1-D CNN (two Conv1d + max-pooling, global average, linear head) naming
which of 5 noisy waveform shapes a 64-sample signal holds, Adam."""

import torch
from lr_issue_data import WAVE_CLASSES, split_seed, waves
from torch import nn

num_classes = WAVE_CLASSES


def build_model():
    return nn.Sequential(
        nn.Conv1d(1, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Conv1d(16, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(32, WAVE_CLASSES),
    )


def get_batch(batch_size: int, split: str = "train"):
    return waves(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return waves(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.Adam(params, lr=lr)
