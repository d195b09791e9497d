"""Clean twin: the 10-class CNN with its own loss_fn, a cross-entropy with label smoothing whose
ignored label (-1) marks some examples as unlabelled. At uniform logits it is still ln 10 per
labelled example: check_initialization reads that off the loss_fn's cross_entropy call."""

import torch
from init_clean_cnn import build_model, get_batch as labelled_batch, num_classes  # noqa: F401 - the same model
from torch.nn import functional as F

UNLABELLED = -1


def get_batch(batch_size: int, split: str = "train"):
    images, labels = labelled_batch(batch_size, split)
    return images, torch.where(torch.arange(batch_size) % 4 == 0, UNLABELLED, labels)  # every fourth unlabelled


def loss_fn(model, batch):
    images, labels = batch
    return F.cross_entropy(model(images), labels, label_smoothing=0.1, ignore_index=UNLABELLED)
