"""Planted bug: the sample z is drawn under torch.no_grad(), so the reconstruction term sends no
gradient to the encoder (only the KL reaches it, pulling q(z|x) onto the prior: posterior collapse).
Caught by gradient_check."""

import harness as clean
import torch
from harness import *  # noqa: F403 - the clean harness, with one function changed


def reparameterize(mu, logvar, eps):
    with torch.no_grad():
        return mu + torch.exp(0.5 * logvar) * eps


clean.reparameterize = reparameterize  # the clean VAE.forward looks it up by name
