"""Bug: train_step never calls optimizer.zero_grad(), so gradients accumulate over steps. With plain SGD the
update at step t is lr * (the sum of every gradient so far): on a regression loss the parameters overshoot
further each time and the loss blows up (at lr=0.1 it passes 10x its initial value on 10 examples).
Clean twin: overfit_sgd_clean.py."""

from overfit_sgd_clean import build_model, get_batch, make_optimizer  # noqa: F401 - same model, data, optimizer
from torch import nn


def train_step(model, batch, optimizer):
    x, y = batch
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()  # the bug: no optimizer.zero_grad() before this
    optimizer.step()
    return loss
