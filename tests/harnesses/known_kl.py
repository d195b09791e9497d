"""A VAE's KL term per latent, KL(N(mu, exp(logvar)) || N(0, 1)), worked by hand in tests/test_known_values.py."""

import torch
from clean_mlp import build_model, get_batch  # noqa: F401


def gaussian_kl(mu, logvar):
    """0.5 * (mu^2 + exp(logvar) - 1 - logvar), element by element: 0 at the prior itself."""
    return 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar)
