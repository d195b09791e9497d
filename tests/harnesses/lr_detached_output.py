"""Bug: the task loss is computed on a detached output, so only the weight penalty trains.

`logits.detach()` cuts the model out of the cross-entropy; backward still works because the
hand-written L2 penalty depends on the parameters. The parameters move (they shrink), but
the task loss cannot improve at any learning rate."""

from clean_mlp import build_model, get_batch, num_classes  # noqa: F401 - same model and data as the clean twin
from torch import nn

WEIGHT_DECAY = 1e-4


def loss_fn(model, batch):
    x, y = batch
    logits = model(x).detach()  # the bug: meant to detach only a copy used for logging
    penalty = sum(p.pow(2).sum() for p in model.parameters())
    return nn.functional.cross_entropy(logits, y) + WEIGHT_DECAY * penalty
