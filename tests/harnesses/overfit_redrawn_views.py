"""A contrastive loss over two augmented views drawn inside loss_fn (SimCLR/MoCo style): correct, but the
loss redraws its augmentations on every call, so no run memorises it to zero. run_overfit_test must say
so (info), not call a correct implementation a failure."""

import torch
import torch.nn.functional as F
from torch import nn


def build_model():
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16))


def get_batch(batch_size, split="train"):
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    centres = torch.randn(4, 8, generator=g)
    x = centres[torch.randint(0, 4, (batch_size,), generator=g)] + 0.1 * torch.randn(batch_size, 8, generator=g)
    return x, torch.zeros(batch_size, dtype=torch.long)


def _view(x):
    return x + 0.5 * torch.randn_like(x)  # a fresh augmentation per call: the paper's two random views


def loss_fn(model, batch):
    x, _ = batch
    q, k = F.normalize(model(_view(x)), dim=-1), F.normalize(model(_view(x)), dim=-1)
    logits = q @ k.T / 0.2  # in-batch negatives
    return F.cross_entropy(logits, torch.arange(len(x)))
