"""Clean twin: a small CNN on normalised 1x16x16 images of 10 classes (a fixed template per class,
plus noise). The pixels are made as 0-255 values, scaled to [0, 1], then standardised."""

import torch
from torch import nn

num_classes = 10
PIXEL_MEAN, PIXEL_STD = 0.5, 0.2  # of the training images after /255


def raw_pixels(batch_size: int, split: str = "train"):
    """(uint8-valued float images of shape (B, 1, 16, 16), labels)."""
    templates = torch.rand(num_classes, 1, 16, 16, generator=torch.Generator().manual_seed(42))
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    labels = torch.randint(0, num_classes, (batch_size,), generator=g)
    images = 0.7 * templates[labels] + 0.3 * torch.rand(batch_size, 1, 16, 16, generator=g)
    return (images * 255).round(), labels


def get_batch(batch_size: int, split: str = "train"):
    pixels, labels = raw_pixels(batch_size, split)
    return (pixels / 255 - PIXEL_MEAN) / PIXEL_STD, labels


def build_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 16, 8, 8)
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 32, 4, 4)
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Linear(64, num_classes),
    )
