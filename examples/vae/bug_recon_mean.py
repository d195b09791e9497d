"""Planted bug: the reconstruction term averaged over the 64 pixels while the KL is summed over
the latent dims. The bound is no longer the paper's (the KL weighs 64x too much: blurry samples).
Caught by check_initialization with expected_init_loss = 64 ln 2: the loss at init is ~1/64 of it."""

import harness as clean
import torch.nn.functional as F
from harness import *  # noqa: F403 - the clean harness, with one function changed


def reconstruction_nll(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").mean(dim=-1)


clean.reconstruction_nll = reconstruction_nll  # the clean loss looks it up by name
