"""Bug: the paper's label smoothing was dropped from the loss, but the harness still declares the
smoothed floor; the loss falls below it: loss_below_floor. Clean twin: train_smoothing_clean.py."""

from torch.nn import functional as F
from train_smoothing_clean import build_model, evaluate, get_batch, get_train_batch, loss_floor, num_classes, objective  # noqa: F401


def loss_fn(model, batch):
    x, y = batch
    return F.cross_entropy(model(x), y)  # BUG: label_smoothing=0.2 missing
