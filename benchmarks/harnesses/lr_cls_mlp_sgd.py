"""LR problem: the same MLP classifier trained with SGD and momentum 0.9."""

import torch
from lr_cls_mlp_adam import build_model, get_batch, get_train_batch, num_classes  # noqa: F401


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr, momentum=0.9)
