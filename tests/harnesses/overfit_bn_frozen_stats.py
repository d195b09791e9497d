"""Bug: the from-scratch BatchNorm computes the batch statistics but never writes them into its running
buffers, so eval mode normalises with the initial 0/1. run_overfit_test: buffers_not_updated, train_eval_gap."""

import overfit_bn_scratch_clean as clean
from overfit_bn_scratch_clean import get_batch, num_classes  # noqa: F401 - the clean twin's task
from torch import nn


class FrozenBatchNorm(clean.ScratchBatchNorm):
    def update(self, mean, var):
        pass  # the bug: the running statistics stay at their initial values


def build_model():
    return nn.Sequential(nn.Linear(16, 64), FrozenBatchNorm(64), nn.ReLU(), nn.Linear(64, num_classes))
