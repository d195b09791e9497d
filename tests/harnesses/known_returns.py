"""RL helpers worked by hand in tests/test_known_values.py: discounted returns computed backward in time."""

import torch
from clean_mlp import build_model, get_batch  # noqa: F401 - the contract's two callables; the checks here need none

GAMMA = 0.9  # a number, not a function: check_known_values must refuse it by name


def discounted_returns(rewards, gamma, dones=None):
    """G_t = r_t + gamma * G_{t+1} * (1 - done_t), from the last step back to the first."""
    dones = torch.zeros_like(rewards) if dones is None else dones
    returns = torch.zeros_like(rewards)
    future = 0.0
    for t in reversed(range(rewards.shape[0])):
        future = rewards[t] + gamma * future * (1 - dones[t])
        returns[t] = future
    return returns


def returns_and_advantages(rewards, values, gamma):
    """A dict output: the returns and the advantages G_t - V(s_t)."""
    returns = discounted_returns(rewards, gamma)
    return {"returns": returns, "advantages": returns - values}


def chosen_log_probs(logits, actions):
    """log pi(a_t | s_t) of the actions taken: (T, A) logits, (T,) int64 actions -> (T,)."""
    return torch.log_softmax(logits, dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def values_column(values):
    """A (T, 1) output where a (T,) one is expected: the shape bug that broadcasts in `returns - values`."""
    return values.unsqueeze(-1)
