"""Clean twin: a tiny VAE (Bernoulli decoder, Gaussian encoder, analytic KL) on 16 grey "pixels".
Its loss dict is {"loss", "recon", "kl"}; loss_floor is the grey targets' own entropy, which a
perfect decoder still pays. run_overfit_test must memorise 1 example to the floor and not call
the larger sizes failures: a variational bound cannot reach the floor on N > 1 examples."""

import torch
from torch import nn
from torch.nn import functional as F

PIXELS, LATENT, HIDDEN = 16, 4, 64


class TinyVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(PIXELS, HIDDEN), nn.Tanh())
        self.mu, self.logvar = nn.Linear(HIDDEN, LATENT), nn.Linear(HIDDEN, LATENT)
        self.dec = nn.Sequential(nn.Linear(LATENT, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, PIXELS))

    def forward(self, x):  # x: (B, 16) in [0, 1]
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.dec(z), mu, logvar  # Bernoulli logits (B, 16), (B, 4), (B, 4)


def kl_divergence(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)


def build_model():
    return TinyVAE()


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    prototypes = torch.rand(4, PIXELS, generator=torch.Generator().manual_seed(7)).round()  # black/white shapes
    pick = torch.randint(4, (batch_size,), generator=g)
    noise = 0.2 * torch.rand(batch_size, PIXELS, generator=g)
    return {"x": (prototypes[pick] * 0.8 + noise).clamp(0, 1)}  # grey: the floor is above zero


def loss_fn(model, batch):
    x = batch["x"]
    logits, mu, logvar = model(x)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1).mean()
    kl = kl_divergence(mu, logvar).mean()
    return {"loss": recon + kl, "recon": recon, "kl": kl}


def loss_floor(batch):
    x = batch["x"]
    return float(-(torch.special.xlogy(x, x) + torch.special.xlogy(1 - x, 1 - x)).sum(-1).mean())
