"""Planted bug: gamma = 1, so Q-values of a policy that balances grow without bound.
Everything else is the clean harness, dqn.py."""

import dqn
from dqn import *  # noqa: F403 - the clean harness, with one constant replaced

dqn.GAMMA = GAMMA = 1.0  # BUG: the paper's 0.99
