"""The VAE reparameterisation with its noise passed in, so a fixed eps gives a hand-worked z."""

import torch
from clean_mlp import build_model, get_batch  # noqa: F401


def reparameterize(mu, logvar, eps):
    """z = mu + sigma * eps with sigma = exp(0.5 * logvar): the encoder outputs the log-variance."""
    return mu + torch.exp(0.5 * logvar) * eps


def sample_and_std(mu, logvar, eps):
    """A tuple output: (z, sigma)."""
    std = torch.exp(0.5 * logvar)
    return mu + std * eps, std


def gaussian_sample(mu, logvar):
    """Draws its own noise: known values cannot be worked by hand, but the draw is seeded per case."""
    return reparameterize(mu, logvar, torch.randn_like(mu))


def posterior(mu, logvar):
    """Returns a distribution object: not comparable with JSON."""
    return torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
