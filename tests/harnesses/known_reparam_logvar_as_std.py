"""Planted bug: the log-variance used as the standard deviation. Twin of known_reparam.py."""

from known_reparam import build_model, get_batch  # noqa: F401


def reparameterize(mu, logvar, eps):
    return mu + logvar * eps  # BUG: sigma = logvar, not exp(0.5 * logvar)
