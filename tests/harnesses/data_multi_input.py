"""Bug in a dict batch with two inputs: {"image": uint8 (B, 1, 8, 8) raw 0..255, "meta": float
(B, 4) standardised, "label"}. No 'x'/'inputs' key, so the other tools cannot find the input;
inspect_data must still judge every input and flag the raw image."""

import torch
from data_clean_images import load_images
from torch import nn

num_classes = 4


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.image = nn.Sequential(nn.Flatten(), nn.Linear(64, 8))
        self.meta = nn.Linear(4, 8)
        self.head = nn.Linear(16, num_classes)

    def forward(self, image, meta):
        return self.head(torch.cat([self.image(image), self.meta(meta)], dim=1))


def build_model():
    return TwoInputs()


def image_batch(batch_size: int, split: str):
    images, labels = load_images(split, channels=1)
    return images[:batch_size], labels[:batch_size]  # bug: uint8 pixels as stored


def get_batch(batch_size: int, split: str = "train"):
    image, label = image_batch(batch_size, split)
    meta = torch.randn(len(label), 4, generator=torch.Generator().manual_seed(len(split)))
    return {"image": image, "meta": meta, "label": label}


def forward(model, batch):
    return model(batch["image"].float(), batch["meta"])
