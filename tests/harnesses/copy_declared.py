"""A copy whose name says nothing, declared: `lagged` is a deepcopy of `net` kept trainable (no requires_grad_(False))
and moved 10 % towards `net` after each step. Nothing infers it, so the harness names it in frozen_copies."""

import copy

import torch
from copy_ema_clean import DECAY, build_model as _clean_model, get_batch, loss_fn  # noqa: F401 - the contract's names

frozen_copies = {"lagged": "net"}


def build_model():
    model = _clean_model()
    del model.ema
    model.lagged = copy.deepcopy(model.net)
    return model


def train_step(model, batch, optimizer):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        torch._foreach_lerp_(list(model.lagged.parameters()), list(model.net.parameters()), 1 - DECAY)
    return loss.detach()
