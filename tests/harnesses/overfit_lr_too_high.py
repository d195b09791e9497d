"""Bug: make_optimizer hard-codes lr=10 (the paper's table gives the learning rate in units of 1e-3 and the
factor was dropped), so plain SGD overshoots: the loss climbs, then overflows to NaN."""

import torch
from clean_mlp import build_model, get_batch, num_classes  # noqa: F401 - same model and data as the clean twin


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=10.0)  # the bug: should be 10e-3
