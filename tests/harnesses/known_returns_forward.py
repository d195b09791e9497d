"""Planted bug: returns discounted forward in time (G_t = r_t + gamma * G_{t-1}). Twin of known_returns.py."""

import torch
from known_returns import build_model, get_batch  # noqa: F401


def discounted_returns(rewards, gamma, dones=None):
    returns = torch.zeros_like(rewards)
    past = 0.0
    for t in range(rewards.shape[0]):  # BUG: runs from the first step to the last
        past = rewards[t] + gamma * past
        returns[t] = past
    return returns
