"""Planted bug: the policy-gradient sign is flipped, so training descends the return.

Caught by start_training with eval_every (objective_not_improving: the return falls from ~18 to ~9)
and by check_known_values on surrogate_loss. Everything else is the clean harness, reinforce.py."""

import reinforce
from reinforce import *  # noqa: F403 - the clean harness, with one function replaced


def surrogate_loss(log_probs, advantages):
    return (log_probs * advantages).mean()  # BUG: should be -mean(log pi * A)


reinforce.surrogate_loss = surrogate_loss  # the clean loss_fn looks it up in its module
