"""Planted bug: Q(s, a) gathered at the greedy action instead of the action taken.
Everything else is the clean harness, dqn.py."""

import dqn
from dqn import *  # noqa: F403 - the clean harness, with one function replaced


def chosen_q(q, actions):
    return q.max(dim=-1).values  # BUG: should gather `actions`


dqn.chosen_q = chosen_q
