"""Bug: the MNIST-1D CNN built with 32 channels instead of the paper's 25, so it has 8,010
parameters instead of 5,210 (conv 192 + 3,104 + 3,104, linear 160->10 1,610)."""

from inspect_mnist1d_cnn import ConvBase, get_batch, num_classes  # noqa: F401 - same data as the clean twin


def build_model():
    return ConvBase(channels=32, linear_in=32 * 5)  # the bug: the paper uses 25 channels
