"""Clean: a RealNVP-style flow (two affine coupling layers, tanh-bounded scales) on a 2-D Gaussian mixture. The
loss is the negative log-likelihood in nats, which a continuous density drives below zero on a few examples:
`loss_floor = -inf` says so. The model maps x (B, 2) to (z, log|det dz/dx|)."""

import math

import torch
from torch import nn

loss_floor = float("-inf")  # a continuous density's NLL has no lower limit


class Coupling(nn.Module):
    def __init__(self, keep: int):
        super().__init__()
        self.keep = keep  # the coordinate passed through; it conditions the other's scale and shift
        self.net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 2))

    def forward(self, x):
        kept, moved = x[:, self.keep : self.keep + 1], x[:, 1 - self.keep : 2 - self.keep]
        log_scale, shift = self.net(kept).chunk(2, dim=-1)
        log_scale = torch.tanh(log_scale)
        moved = moved * log_scale.exp() + shift
        out = torch.cat([kept, moved], dim=1) if self.keep == 0 else torch.cat([moved, kept], dim=1)
        return out, log_scale.squeeze(-1)


class Flow(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([Coupling(0), Coupling(1)])

    def forward(self, x):
        log_det = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, step = layer(x)
            log_det = log_det + step
        return x, log_det


def build_model():
    return Flow()


def get_batch(batch_size, split="train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    centres = torch.tensor([[-1.5, 0.0], [1.5, 0.5]])
    which = torch.randint(0, 2, (batch_size,), generator=g)
    return (centres[which] + 0.3 * torch.randn(batch_size, 2, generator=g),)


def loss_fn(model, batch):
    z, log_det = model(batch[0])
    log_pz = -0.5 * z.pow(2).sum(-1) - math.log(2 * math.pi)  # standard normal in 2-D
    return -(log_pz + log_det).mean()
