"""Clean twin: 8x8 RGB images scaled to [0, 1], then standardised per channel with the
training set's mean and std. inspect_data must give it no warning."""

import torch
from torch import nn

num_classes = 4
SIZES = {"train": 1000, "test": 300}


def load_images(split: str, channels: int = 3):
    """The raw dataset as stored on disk: uint8 pixels (N, C, 8, 8); the label is the brightest quadrant."""
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    images = torch.randint(0, 256, (SIZES[split], channels, 8, 8), generator=g, dtype=torch.uint8)
    quadrants = images.float().mean(dim=1).unfold(1, 4, 4).unfold(2, 4, 4).mean(dim=(-1, -2))  # (N, 2, 2)
    return images, quadrants.flatten(1).argmax(dim=1)


def build_model():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, num_classes))


def _channel_stats():
    train = load_images("train")[0].float() / 255
    return train.mean(dim=(0, 2, 3), keepdim=True), train.std(dim=(0, 2, 3), keepdim=True)


MEAN, STD = _channel_stats()


def get_batch(batch_size: int, split: str = "train"):
    images, labels = load_images(split)
    x = (images[:batch_size].float() / 255 - MEAN) / STD  # (B, 3, 8, 8), ~zero mean, unit std per channel
    return x, labels[:batch_size]
