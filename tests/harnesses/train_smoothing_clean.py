"""Clean twin for loss_below_floor in training runs: label smoothing 0.2 and the floor it implies
(the entropy of the smoothed targets: no model gets below it)."""

import math

from torch.nn import functional as F
from train_clean import build_model, evaluate, get_batch, get_train_batch, num_classes, objective  # noqa: F401

SMOOTHING = 0.2
_on, _off = 1 - SMOOTHING + SMOOTHING / num_classes, SMOOTHING / num_classes
loss_floor = -(_on * math.log(_on) + (num_classes - 1) * _off * math.log(_off))


def loss_fn(model, batch):
    x, y = batch
    return F.cross_entropy(model(x), y, label_smoothing=SMOOTHING)
