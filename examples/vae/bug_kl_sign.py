"""Planted bug: the KL term with the wrong sign, 0.5 * sum(1 + log sigma^2 - mu^2 - sigma^2), the
paper's -KL written where KL belongs. Minimising the loss then maximises the KL: the bound falls
without limit. Caught by run_overfit_test (loss_below_floor) and check_initialization (negative_kl)."""

import harness as clean
from harness import *  # noqa: F403 - the clean harness, with one function changed


def kl_divergence(mu, logvar):
    return 0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(dim=-1)


clean.kl_divergence = kl_divergence  # the clean loss_fn looks it up by name
