"""Clean: the tiny VAE of grad_vae_clean.py with a beta switch (the KL's weight) and an objective (the test
ELBO). A no-KL variant (beta=0) has a lower training loss because its loss lacks a term, not because it
is better: run_ablation must rank by the objective, or say the losses are not comparable."""

import torch
from grad_vae_clean import VAE, get_batch

objective = {"monitor": "test_elbo", "mode": "max"}


class WeightedVAE(VAE):
    def __init__(self, beta: float):
        super().__init__()
        self.beta = beta


def build_model(beta: float = 1.0):
    return WeightedVAE(beta)


def _terms(model, x):
    recon, mu, logvar = model(x)
    rec = (recon - x).pow(2).sum(-1).mean()
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1).mean()
    return rec, kl


def loss_fn(model, batch):
    rec, kl = _terms(model, batch[0])
    return {"loss": rec + model.beta * kl, "recon": rec, "kl": kl}


@torch.no_grad()
def evaluate(model):
    rec, kl = _terms(model, get_batch(256, "test")[0])
    return {"test_elbo": -(rec + kl).item()}  # up to constants: higher is better
