"""Planted bug: the target network's parameters are trainable and in the optimiser, so the
"frozen" copy drifts under weight updates. Everything else is the clean harness, dqn.py."""

import dqn
import torch
from dqn import *  # noqa: F403 - the clean harness, with functions replaced

_build = dqn.build_model


def build_model(hidden=64):
    model = _build(hidden)
    model.target.requires_grad_(True)  # BUG: the copy is no longer frozen
    return model


def make_optimizer(params, lr):
    return torch.optim.Adam(params, lr=lr)  # BUG: every parameter, the target's included
