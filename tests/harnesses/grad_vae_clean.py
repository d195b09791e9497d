"""Clean: a tiny Gaussian VAE on 8-dimensional data; loss_fn returns {"loss", "recon", "kl"}.
The encoder learns from both terms through the reparameterised sample."""

import torch
from torch import nn

LATENT = 2


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 2 * LATENT))
        self.decoder = nn.Sequential(nn.Linear(LATENT, 16), nn.Tanh(), nn.Linear(16, 8))

    def sample(self, mu, logvar):
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # (B, LATENT)

    def forward(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return self.decoder(self.sample(mu, logvar)), mu, logvar


def build_model():
    return VAE()


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    x = torch.randn(batch_size, 8, generator=g)
    return x, x


def loss_fn(model, batch):
    x, _ = batch
    recon, mu, logvar = model(x)
    rec = (recon - x).pow(2).sum(-1).mean()
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1).mean()
    return {"loss": rec + kl, "recon": rec, "kl": kl}
