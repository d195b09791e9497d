"""Bug: the tiny VAE's KL with the wrong sign (the paper's -KL used as the KL). The bound then falls
without limit: run_overfit_test must report loss_below_floor and negative_kl and memorise nothing."""

import overfit_tiny_vae as clean
from overfit_tiny_vae import build_model, get_batch, loss_floor, loss_fn  # noqa: F401 - the clean twin


def kl_divergence(mu, logvar):
    return 0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)  # the bug: -KL


clean.kl_divergence = kl_divergence  # the clean loss_fn looks it up by name
