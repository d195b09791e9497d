"""Bug: the EMA copy is left trainable and a hand-written L2 penalty runs over model.parameters(), which include
the copy's: the penalty's gradient reaches `ema` and Adam, built over model.parameters(), steps it on top of its
EMA update. run_overfit_test must raise optimizer_updates_copy naming `ema`."""

import copy

from copy_ema_clean import build_model as _clean_model, get_batch, loss_fn as _noise_loss, update_ema  # noqa: F401

WEIGHT_DECAY = 1e-3


def build_model():
    model = _clean_model()
    model.ema = copy.deepcopy(model.net)  # BUG: not frozen
    return model


def loss_fn(model, batch):
    penalty = sum(p.pow(2).sum() for p in model.parameters())  # BUG: the copy's parameters are in it
    return _noise_loss(model, batch) + WEIGHT_DECAY * penalty


def train_step(model, batch, optimizer):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    update_ema(model)
    return loss.detach()
