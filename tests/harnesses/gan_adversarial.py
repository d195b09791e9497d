"""Clean: a small MLP GAN (Goodfellow et al. 2014, non-saturating G loss) on an 8-Gaussian ring, declared
`adversarial = True`: run_overfit_test judges finite losses and moving parameters, not a memorised loss.

model(x) -> D's logits for points x (B, 2). model.generator(z) -> samples (B, 2).
Batch: {"inputs": real points (B, 2), "z": latent noise (B, Z)}.
train_step: alternating updates, one D step on real vs G(z).detach(), then one G step with the
non-saturating loss -log D(G(z)). One Adam over all params; the sub-net not being stepped has its
grads set to None so Adam leaves it alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

Z_DIM = 8
RADIUS, STD, MODES = 2.0, 0.05, 8
objective = {"monitor": "modes_covered", "mode": "max"}
adversarial = True  # D and G pull the summed loss opposite ways: it has no floor


class GAN(nn.Module):
    def __init__(self, hidden: int = 64):
        super().__init__()
        self.generator = nn.Sequential(
            nn.Linear(Z_DIM, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2)
        )
        self.discriminator = nn.Sequential(
            nn.Linear(2, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 2) -> (B,) logits of "real"
        return self.discriminator(x).squeeze(-1)

    def sample(self, z: torch.Tensor) -> torch.Tensor:  # (B, Z) -> (B, 2)
        return self.generator(z)


def build_model(hidden: int = 64) -> nn.Module:
    return GAN(hidden)


def _centers() -> torch.Tensor:
    ang = torch.arange(MODES) * 2 * math.pi / MODES
    return RADIUS * torch.stack([ang.cos(), ang.sin()], dim=1)  # (8, 2)


def _draw(batch_size: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    k = torch.randint(0, MODES, (batch_size,), generator=g)
    x = _centers()[k] + STD * torch.randn(batch_size, 2, generator=g)
    z = torch.randn(batch_size, Z_DIM, generator=g)
    return {"inputs": x, "z": z}


def get_batch(batch_size: int, split: str = "train") -> dict[str, torch.Tensor]:
    return _draw(batch_size, torch.Generator().manual_seed({"train": 0, "test": 1}[split]))


def get_train_batch(batch_size: int, step: int, seed: int = 0) -> dict[str, torch.Tensor]:
    return _draw(batch_size, torch.Generator().manual_seed(1_000_003 * seed + step))


def d_loss_fn(model, real, fake):
    """BCE: real -> 1, fake -> 0. `fake` must already be detached for the D step."""
    lr_, lf = model(real), model(fake)
    return F.binary_cross_entropy_with_logits(lr_, torch.ones_like(lr_)) + F.binary_cross_entropy_with_logits(
        lf, torch.zeros_like(lf)
    )


def g_loss_fn(model, fake):
    """Non-saturating: -log D(G(z))."""
    lf = model(fake)
    return F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf))


def loss_fn(model, batch):
    real, z = batch["inputs"], batch["z"]
    fake = model.sample(z)
    d_loss = d_loss_fn(model, real, fake.detach())
    g_loss = g_loss_fn(model, fake)
    return {"loss": d_loss + g_loss, "d_loss": d_loss.detach(), "g_loss": g_loss.detach()}


def make_optimizer(params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))


def _only(model, sub: str) -> None:
    """Drop the grads of the sub-net not being stepped, so Adam skips it."""
    other = model.generator if sub == "discriminator" else model.discriminator
    for p in other.parameters():
        p.grad = None


def train_step(model, batch, optimizer):
    real, z = batch["inputs"], batch["z"]
    # D step
    optimizer.zero_grad(set_to_none=True)
    fake = model.sample(z)
    d_loss = d_loss_fn(model, real, fake.detach())
    d_loss.backward()
    _only(model, "discriminator")
    optimizer.step()
    # G step
    optimizer.zero_grad(set_to_none=True)
    g_loss = g_loss_fn(model, model.sample(z))
    g_loss.backward()
    _only(model, "generator")
    optimizer.step()
    return {"loss": (d_loss + g_loss).item(), "d_loss": d_loss.item(), "g_loss": g_loss.item()}


@torch.no_grad()
def evaluate(model) -> dict[str, float]:
    g = torch.Generator().manual_seed(123)
    x = model.sample(torch.randn(2000, Z_DIM, generator=g))
    d = torch.cdist(x, _centers())  # (N, 8)
    dist, k = d.min(dim=1)
    good = dist < 3 * STD
    covered = torch.bincount(k[good], minlength=MODES)
    return {
        "modes_covered": float((covered > 20).sum()),
        "high_quality": good.float().mean().item() * 100,
    }
