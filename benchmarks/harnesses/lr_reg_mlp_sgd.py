"""LR problem: the same MLP regressor trained with plain SGD (no momentum)."""

import torch
from lr_reg_mlp_adam import build_model, get_batch, get_train_batch  # noqa: F401


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr)
