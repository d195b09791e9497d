"""Bug: uint8 pixels are converted to float without scaling, so the model sees values in
0..255 (mean ~127, std ~74) instead of standardised inputs. Grayscale (B, 1, 8, 8)."""

from data_clean_images import load_images
from torch import nn

num_classes = 4


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, num_classes))


def get_batch(batch_size: int, split: str = "train"):
    images, labels = load_images(split, channels=1)
    return images[:batch_size].float(), labels[:batch_size]  # bug: no / 255, no normalisation
