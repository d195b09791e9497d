"""Planted bug: the reparameterisation uses log sigma^2 as if it were sigma, z = mu + logvar * eps.
Training still runs (the loss even falls), so only a hand-worked case shows it: caught by
check_known_values on reparameterize with a fixed eps."""

import harness as clean
from harness import *  # noqa: F403 - the clean harness, with one function changed


def reparameterize(mu, logvar, eps):
    return mu + logvar * eps


clean.reparameterize = reparameterize  # the clean VAE.forward looks it up by name
