"""Planted bug: returns discounted forward in time (G_t = r_t + gamma * G_{t-1}): early actions
get the least credit. Caught by check_known_values on discounted_returns (a five-step trajectory).
Everything else is the clean harness, reinforce.py."""

import reinforce
import torch
from reinforce import *  # noqa: F403 - the clean harness, with one function replaced


def discounted_returns(rewards, gamma):
    returns = torch.zeros_like(rewards)
    past = torch.zeros_like(rewards[0])
    for t in range(rewards.shape[0]):  # BUG: from the first step to the last
        past = rewards[t] + gamma * past
        returns[t] = past
    return returns


reinforce.discounted_returns = discounted_returns  # the clean batches look it up in their module
