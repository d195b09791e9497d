"""Planted bug: BatchNorm's running statistics never update (momentum=0, as when a port from
a framework whose "momentum" means the opposite (Keras: 0.99 keeps the old value) is half
translated). Training in train mode normalises with each batch's statistics and looks fine;
evaluation uses the running statistics, still at their initial mean 0 / variance 1.

Caught by run_overfit_test and training runs -> buffers_not_updated / train_eval_gap.
"""

import harness
from harness import evaluate, get_batch, get_train_batch, make_optimizer, num_classes, objective  # noqa: F401
from torch import nn


def build_model(**model_kwargs) -> nn.Module:
    model = harness.build_model(**model_kwargs)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.momentum = 0.0  # the bug: running_mean/var = (1 - 0) * old + 0 * batch, forever
    return model
