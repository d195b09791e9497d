"""Planted bug: abar shifted by one step (abar_0 = 1: the first level adds no noise, and every
level is one step too clean). Everything else is the clean harness, ddpm.py."""

import ddpm
import torch
from ddpm import *  # noqa: F403 - the clean harness, with one function replaced


def alpha_bar(betas):
    return torch.cat([torch.ones(1), torch.cumprod(1 - betas, dim=0)[:-1]])  # BUG: prod over s < t


ddpm.alpha_bar = alpha_bar
