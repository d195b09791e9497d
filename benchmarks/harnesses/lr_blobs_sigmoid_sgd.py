"""LR problem: a 4-layer sigmoid MLP without BatchNorm on blobs, plain SGD (the field case
whose range test used to end in no_stable_lr)."""

import torch
from lr_field_data import BLOB_CLASSES, BLOB_FEATURES, blobs, split_seed
from torch import nn

num_classes = BLOB_CLASSES
WIDTH = 64


def build_model(batchnorm: bool = False):
    def block(width_in: int) -> list[nn.Module]:
        norm = [nn.BatchNorm1d(WIDTH)] if batchnorm else []
        return [nn.Linear(width_in, WIDTH), *norm, nn.Sigmoid()]

    return nn.Sequential(*block(BLOB_FEATURES), *block(WIDTH), *block(WIDTH), nn.Linear(WIDTH, BLOB_CLASSES))


def get_batch(batch_size: int, split: str = "train"):
    return blobs(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return blobs(batch_size, step)


def make_optimizer(params, lr):
    return torch.optim.SGD(params, lr=lr)
