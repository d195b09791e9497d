"""Planted bug: the target network is never synced, so targets come from the initial weights
forever. Everything else is the clean harness, dqn.py."""

import dqn
from dqn import *  # noqa: F403 - the clean harness, with one function replaced


def sync_target(model):
    pass  # BUG: load_state_dict forgotten


dqn.sync_target = sync_target
