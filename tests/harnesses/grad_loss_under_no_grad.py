"""Bug: loss_fn was copied from the evaluation code and still runs under torch.no_grad(), so the loss has no
graph at all and backward cannot reach any parameter."""

import torch
from clean_mlp import build_model, get_batch, num_classes  # noqa: F401 - same model and data as the clean twin
from torch import nn


def loss_fn(model, batch):
    x, y = batch
    with torch.no_grad():  # the bug: fine for evaluation, fatal for training
        return nn.functional.cross_entropy(model(x), y)
