"""Bug: the from-scratch BatchNorm computes the batch statistics but never writes the running
ones, so eval mode normalises raw inputs with the initial 0 / 1: buffers_not_updated and
train_eval_gap. Clean twin: train_bn_clean.py."""

import train_bn_clean
from train_bn_clean import build_model, evaluate, get_batch, get_train_batch, num_classes, objective  # noqa: F401


def update(self, mean, var):
    new_mean = self.running_mean * (1 - self.momentum) + mean * self.momentum  # BUG: computed, never stored
    new_var = self.running_var * (1 - self.momentum) + var * self.momentum
    return new_mean, new_var


train_bn_clean.BatchNorm.update = update
