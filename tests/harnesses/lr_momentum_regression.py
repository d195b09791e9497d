"""Clean twin for lr_sweep: the regression MLP of lr_regression_mlp.py under SGD with momentum 0.9.

A range test's loss lags the ramp under momentum: its steepest descent sat 5-8x below the best
rate of a grid (issue 16); the suggestion reads the divergence point instead."""

import torch
from lr_regression_mlp import build_model, get_batch, get_train_batch  # noqa: F401 - same model and data


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr, momentum=0.9)
