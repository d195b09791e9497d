"""Clean twin for lr_sweep: a 4-layer sigmoid MLP without BatchNorm under plain SGD (the field
case whose range test said no_stable_lr). Its stable range, against lr_sigmoid_mlp_bn.py's,
says how much wider a range BatchNorm tolerates."""

import lr_deep_tanh_sgd as blobs
from lr_deep_tanh_sgd import get_batch, get_train_batch, make_optimizer, num_classes  # noqa: F401
from torch import nn


def build_model():
    return blobs.build_model(activation=nn.Sigmoid, depth=3)
