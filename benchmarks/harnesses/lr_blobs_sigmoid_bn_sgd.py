"""LR problem: the same sigmoid MLP with BatchNorm before each sigmoid, plain SGD: its stable
range against the twin's says how much wider a range BatchNorm tolerates."""

import lr_blobs_sigmoid_sgd as twin
from lr_blobs_sigmoid_sgd import get_batch, get_train_batch, make_optimizer, num_classes  # noqa: F401


def build_model():
    return twin.build_model(batchnorm=True)
