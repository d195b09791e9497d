"""Planted bug: the KL without its 0.5, a wrong coefficient (every nonzero element 2x the expected value,
the prior's 0 still 0). Twin of known_kl.py."""

import torch
from known_kl import build_model, get_batch  # noqa: F401


def gaussian_kl(mu, logvar):
    return mu**2 + torch.exp(logvar) - 1 - logvar  # BUG: the 0.5 is missing
