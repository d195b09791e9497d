"""Planted bug: the beta schedule is constant at its first value (linspace(b1, b1)), so abar
at the last step is ~0.9 and x_T is nowhere near N(0, I). Everything else is ddpm.py."""

import ddpm
import torch
from ddpm import *  # noqa: F403 - the clean harness, with one function replaced


def beta_schedule(steps=ddpm.T, first=ddpm.BETA_1, last=ddpm.BETA_T):
    return torch.linspace(first, first, steps)  # BUG: end value not used


ddpm.beta_schedule = beta_schedule
