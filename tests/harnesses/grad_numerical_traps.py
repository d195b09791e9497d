"""Functions where a numerical gradient check can mislead (numerical mode of gradient_check).

`saturated_softmax`: a softmax at temperature 1/1000 is one-hot at random inputs, so both Jacobians are
zero and agree on nothing: the check measured nothing, it must not pass. `float32_swish`: a correct
Swish computed after a cast to float32: the finite differences at eps 1e-6 are float32 rounding noise,
so the error comes from the cast, not from the backward. `float64_swish` is the clean twin.
"""

import torch
from clean_mlp import build_model, get_batch, num_classes  # noqa: F401 - a harness still needs a model


def saturated_softmax(x):
    return torch.softmax(1000.0 * x, dim=-1)


def float32_swish(x):
    y = x.float()  # the trap: a float32 cast inside the function (e.g. a buffer or autocast)
    return (y * torch.sigmoid(y)).double()


def float64_swish(x):
    return x * torch.sigmoid(x)
