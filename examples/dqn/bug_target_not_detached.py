"""Planted bug: the TD target is built from the online network with gradients flowing through
it (no target network, no detach). Everything else is the clean harness, dqn.py."""

import dqn
from dqn import *  # noqa: F403 - the clean harness, with one function replaced
from torch.nn import functional as F


def loss_fn(model, batch):
    y = dqn.td_target(batch["rewards"], model(batch["next_states"]), batch["terminal"])  # BUG
    return F.smooth_l1_loss(dqn.chosen_q(model(batch["inputs"]), batch["actions"]), y)


dqn.loss_fn = loss_fn
