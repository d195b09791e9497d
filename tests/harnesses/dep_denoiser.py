"""Clean: a tiny DDPM-style denoiser on 2-D points, conditioned on the timestep t.

The batch keeps x0, t and the noise (get_batch stays deterministic); forward builds x_t and
calls model(x_t, t). check_dependencies at its defaults must find t reaching the output."""

import math

import torch
from torch import nn

STEPS, WIDTH = 100, 64
BETAS = torch.linspace(1e-4, 0.02, STEPS)
ALPHA_BARS = torch.cumprod(1 - BETAS, dim=0)


def timestep_embedding(t: torch.Tensor, width: int) -> torch.Tensor:
    half = width // 2
    freqs = torch.exp(-math.log(10_000) * torch.arange(half) / half)
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)  # (B, width)


class Denoiser(nn.Module):
    def __init__(self, use_t: bool = True):
        super().__init__()
        self.use_t = use_t
        self.inp = nn.Linear(2, WIDTH)
        self.time = nn.Linear(WIDTH, WIDTH)
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(WIDTH, WIDTH), nn.SiLU(), nn.Linear(WIDTH, 2))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        if self.use_t:
            h = h + self.time(timestep_embedding(t, WIDTH))
        return self.out(h)  # predicted noise, (B, 2)


def build_model():
    return Denoiser(use_t=True)


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    centres = torch.tensor([[-2.0, 0.0], [2.0, 0.0]])
    x0 = centres[torch.randint(0, 2, (batch_size,), generator=g)] + 0.1 * torch.randn(batch_size, 2, generator=g)
    t = torch.randint(0, STEPS, (batch_size,), generator=g)
    return {"x0": x0, "t": t, "noise": torch.randn(batch_size, 2, generator=g)}


def noisy(batch):
    a = ALPHA_BARS[batch["t"]][:, None]
    return a.sqrt() * batch["x0"] + (1 - a).sqrt() * batch["noise"]


def forward(model, batch):
    return model(noisy(batch), batch["t"])


def loss_fn(model, batch):
    return ((forward(model, batch) - batch["noise"]) ** 2).mean()
