"""Bug: the VAE's sample is drawn under torch.no_grad(), so the reconstruction term sends no
gradient to the encoder: it learns from the KL alone (every parameter still has a .grad)."""

import grad_vae_clean
import torch
from grad_vae_clean import get_batch, loss_fn  # noqa: F401 - contract names


class NoGradSampleVAE(grad_vae_clean.VAE):
    def sample(self, mu, logvar):
        with torch.no_grad():  # the bug: copied from a sampling-only code path
            return super().sample(mu, logvar)


def build_model():
    return NoGradSampleVAE()
