"""Planted bug: the bootstrapped target ignores terminals (it looks past the pole's fall).
Everything else is the clean harness, dqn.py."""

import dqn
from dqn import *  # noqa: F403 - the clean harness, with one function replaced


def td_target(rewards, next_q, terminal, gamma=None):
    gamma = dqn.GAMMA if gamma is None else gamma
    return rewards + gamma * next_q.max(dim=-1).values  # BUG: no (1 - terminal)


dqn.td_target = td_target
