"""Bug: the loss is rebuilt from a Python float (torch.tensor(loss.item(), requires_grad=True)) to "make
backward work"; the new tensor has no history, so backward runs but no parameter ever gets a gradient."""

import torch
from clean_mlp import build_model, get_batch, num_classes  # noqa: F401 - same model and data as the clean twin
from torch import nn


def loss_fn(model, batch):
    x, y = batch
    loss = nn.functional.cross_entropy(model(x), y)
    return torch.tensor(loss.item(), requires_grad=True)  # the bug: cuts the graph
