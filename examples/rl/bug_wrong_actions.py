"""Planted bug: log-probabilities of the greedy action instead of the action actually taken.
Caught by check_known_values on chosen_log_probs, and by training (objective_not_improving: the
return falls). Everything else is the clean harness, reinforce.py."""

import reinforce
import torch
from reinforce import *  # noqa: F403 - the clean harness, with one function replaced


def chosen_log_probs(logits, actions):
    greedy = logits.argmax(dim=-1)  # BUG: should gather `actions`, the ones the episodes took
    return torch.log_softmax(logits, dim=-1).gather(-1, greedy.unsqueeze(-1)).squeeze(-1)


reinforce.chosen_log_probs = chosen_log_probs  # the clean loss_fn looks it up in its module
