"""Clean twin: a small CNN (conv, BatchNorm, ReLU, pooling, linear head) on 1x12x12 images with
teacher labels. gradient_check must give it no warning."""

import torch
from torch import nn

num_classes = 5


def build_model(channels: int = 8):
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.Conv2d(channels, 2 * channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(2 * channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(2 * channels, 2 * channels, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2 * channels, num_classes),
    )


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    teacher = torch.randn(144, num_classes, generator=torch.Generator().manual_seed(7))
    x = torch.randn(batch_size, 1, 12, 12, generator=g)
    return x, (x.flatten(1) @ teacher).argmax(dim=1)
