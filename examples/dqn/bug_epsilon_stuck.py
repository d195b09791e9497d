"""Planted bug: epsilon never decays (integer division makes the progress term 0), so the agent
acts at random forever. Everything else is the clean harness, dqn.py."""

import dqn
from dqn import *  # noqa: F403 - the clean harness, with one function replaced


def epsilon(updates):
    return dqn.EPS_END + (dqn.EPS_START - dqn.EPS_END) * max(0.0, 1 - updates // dqn.EPS_DECAY)  # BUG: //


dqn.epsilon = epsilon
