"""Clean twin of lr_sigmoid_mlp.py with BatchNorm before each sigmoid."""

import lr_deep_tanh_sgd as blobs
from lr_deep_tanh_sgd import get_batch, get_train_batch, make_optimizer, num_classes  # noqa: F401
from torch import nn


def build_model():
    return blobs.build_model(batchnorm=True, activation=nn.Sigmoid, depth=3)
