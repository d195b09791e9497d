"""Bug: a regulariser added with the wrong sign, so the loss has no lower bound.

Meant as a penalty on large logits (+), written as a reward (-): every step makes the logits
larger and the loss more negative, below the declared floor of 0 and without limit."""

from clean_mlp import build_model, get_batch, num_classes  # noqa: F401 - same model and data as the clean twin
from torch import nn

loss_floor = 0.0


def loss_fn(model, batch):
    x, y = batch
    logits = model(x)
    return nn.functional.cross_entropy(logits, y) - 0.1 * logits.pow(2).mean()  # the bug: - where + was meant
