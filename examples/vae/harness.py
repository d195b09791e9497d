"""
Harness: the variational auto-encoder of Auto-Encoding Variational Bayes (Kingma & Welling,
ICLR 2014), on scikit-learn's 8x8 digits.

The paper's model (its section 3 and appendix C): a Gaussian encoder q(z|x) = N(mu, diag sigma^2)
and a Bernoulli decoder p(x|z), each an MLP with one tanh hidden layer, a N(0, I) prior, the
reparameterisation z = mu + sigma * eps, and the KL term in closed form (appendix B):
    -KL = 0.5 * sum(1 + log sigma^2 - mu^2 - sigma^2).
The loss is the negative ELBO per example: the reconstruction's negative log-likelihood summed
over the 64 pixels plus the KL, averaged over the batch. No KL annealing: the paper has none.

Pixels are scaled to [0, 1] and left grey (not binarised), so even a perfect Bernoulli decoder
pays the data's own entropy: that is `loss_floor`.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from digits_data import PIXELS, evaluate_with, get_batch, get_train_batch, pixel_entropy, save_grid  # noqa: F401 (contract names)

LATENT = 8
HIDDEN = 128
SAMPLES = ".implement-paper/vae_samples.png"  # relative to the project root, where the tools run
objective = {"monitor": "test_neg_elbo", "mode": "min"}  # nats per digit, lower is better


class VAE(nn.Module):
    def __init__(self, latent=LATENT, hidden=HIDDEN, beta=1.0):
        super().__init__()
        self.beta = beta  # weight of the KL: 1 is the paper's bound; run_ablation tries 0 (no KL)
        self.enc = nn.Linear(PIXELS, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.dec = nn.Linear(latent, hidden)
        self.out = nn.Linear(hidden, PIXELS)

    def encode(self, x):  # x: (B, 64) in [0, 1]
        h = torch.tanh(self.enc(x))  # (B, H)
        return self.mu(h), self.logvar(h)  # (B, J), (B, J)

    def decode(self, z):  # z: (B, J)
        return self.out(torch.tanh(self.dec(z)))  # (B, 64) Bernoulli logits

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, torch.randn_like(mu))
        return self.decode(z), mu, logvar


def reparameterize(mu, logvar, eps):
    """z = mu + sigma * eps with sigma = exp(logvar / 2): a sample of N(mu, sigma^2) that
    gradients flow through (the paper's section 2.4)."""
    return mu + torch.exp(0.5 * logvar) * eps


def kl_divergence(mu, logvar):
    """KL(N(mu, sigma^2) || N(0, I)) per example, summed over the latent dims (appendix B)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def reconstruction_nll(logits, x):
    """-log p(x|z) of a Bernoulli decoder per example: binary cross-entropy summed over pixels."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def neg_elbo_terms(model, x):
    """(recon, kl) per example, with one sample of z per example (the paper's L = 1)."""
    logits, mu, logvar = model(x)
    return reconstruction_nll(logits, x), kl_divergence(mu, logvar)


def build_model(**model_kwargs) -> nn.Module:
    return VAE(**model_kwargs)


def loss_fn(model, batch):
    recon, kl = neg_elbo_terms(model, batch["x"])
    recon, kl = recon.mean(), kl.mean()
    return {"loss": recon + model.beta * kl, "recon": recon, "kl": kl}


def loss_floor(batch):
    """What a perfect model pays on grey pixels: the targets' own entropy (nats per digit)."""
    return pixel_entropy(batch["x"])


def make_optimizer(params, lr=1e-3):
    return torch.optim.Adam(params, lr=lr)


def evaluate(model):
    """The test bound (always with the full KL, whatever beta trained), and a grid of samples saved
    to SAMPLES: the paper's figures show decoder means of z drawn from the prior."""
    save_grid(sample_images(model), SAMPLES)
    return evaluate_with(model, neg_elbo_terms)


def sample_images(model, n=16, seed=0):
    """Decoder means of n draws from the prior: (n, 8, 8) in [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        z = torch.randn(n, model.mu.out_features, generator=generator)
        return torch.sigmoid(model.decode(z)).reshape(n, 8, 8)
