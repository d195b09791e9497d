"""Harness: Denoising Diffusion Probabilistic Models (Ho, Jain & Abbeel, NeurIPS 2020) on a 2-D toy.

The data: a mixture of eight Gaussians on a circle of radius 2 (std 0.1 each), a density with
holes that a single Gaussian cannot fit. The paper's recipe, scaled down:

* forward process q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) with a linear beta
  schedule (the paper: 1e-4 .. 0.02 over T = 1000; here T = 100, so the betas are 10x larger
  and abar at the last step is ~5e-5 as in the paper);
* an MLP eps_theta(x_t, t) conditioned on t through a sinusoidal embedding, trained with the
  paper's "simple" loss ||eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t)||^2;
* ancestral sampling (Algorithm 2) with sigma_t^2 = beta_t, and an EMA of the weights
  (decay 0.995; the paper: 0.9999) used for sampling.

The batch carries t and eps beside x_0, each drawn from the batch's own seeded generator, so
get_batch returns the same numbers for the same call and the tools can differentiate it.
The claim checked: samples match the data (sliced Wasserstein distance near the floor that
two data draws of the same size reach, far below a Gaussian fitted to the data).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F

T = 100  # diffusion steps
BETA_1, BETA_T = 1e-3, 0.2  # the paper's 1e-4 .. 0.02, scaled by 1000 / T
HIDDEN, EMBED = 128, 32
EMA_DECAY = 0.995
MODES, RADIUS, MODE_STD = 8, 2.0, 0.1
EVAL_SAMPLES = 2000
objective = {"monitor": "swd", "mode": "min"}


def beta_schedule(steps: int = T, first: float = BETA_1, last: float = BETA_T) -> torch.Tensor:
    """(steps,) beta_1 .. beta_T, linear from first to last; index i holds beta at step t = i + 1 of the paper."""
    return torch.linspace(first, last, steps)


def alpha_bar(betas: torch.Tensor) -> torch.Tensor:
    """(T,) abar_t = prod_{s <= t} (1 - beta_s): index 0 is 1 - beta_1, never 1."""
    return torch.cumprod(1 - betas, dim=0)


def noisy(x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor, abar: torch.Tensor) -> torch.Tensor:
    """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps: (B, 2), (B,) step indices, (B, 2) -> (B, 2)."""
    a = abar[t].unsqueeze(-1)  # (B, 1)
    return a.sqrt() * x0 + (1 - a).sqrt() * eps


def time_embedding(t: torch.Tensor) -> torch.Tensor:
    """(B,) int steps -> (B, EMBED) sinusoids of t at geometrically spaced frequencies."""
    freqs = torch.exp(-math.log(1000.0) * torch.arange(EMBED // 2) / (EMBED // 2))
    angles = t.float().unsqueeze(-1) * freqs  # (B, EMBED/2)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class Denoiser(nn.Module):
    """eps_theta(x_t, t): an MLP on [x_t, embed(t)]; `ema` is a frozen copy of it for sampling."""

    def __init__(self, hidden: int = HIDDEN):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 + EMBED, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2),
        )
        self.register_buffer("betas", beta_schedule())
        self.register_buffer("abar", alpha_bar(self.betas))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:  # (B, 2), (B,) -> (B, 2)
        return self.net(torch.cat([x_t, time_embedding(t)], dim=-1))


class DDPM(nn.Module):
    """The trained denoiser and its EMA copy (a submodule whose parameters never take gradients)."""

    def __init__(self, hidden: int = HIDDEN):
        super().__init__()
        self.online = Denoiser(hidden)
        self.ema = copy.deepcopy(self.online).requires_grad_(False)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.online(x_t, t)


def build_model(hidden: int = HIDDEN) -> nn.Module:
    return DDPM(hidden)


# --- data: x0 from the mixture, with its t and noise --------------------------------------------


def sample_data(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 2) points of the eight-Gaussian ring."""
    angle = torch.randint(0, MODES, (n,), generator=generator).float() * (2 * math.pi / MODES)
    centres = RADIUS * torch.stack([angle.cos(), angle.sin()], dim=-1)
    return centres + MODE_STD * torch.randn(n, 2, generator=generator)


def diffusion_batch(n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """x0 with one step t and one noise draw per example: everything random lives in the batch."""
    return {
        "inputs": sample_data(n, generator),  # (n, 2) x0
        "t": torch.randint(0, T, (n,), generator=generator),  # (n,) step index, uniform over 0 .. T-1
        "noise": torch.randn(n, 2, generator=generator),  # (n, 2) eps
    }


def get_batch(batch_size: int, split: str = "train") -> dict[str, torch.Tensor]:
    return diffusion_batch(batch_size, torch.Generator().manual_seed({"train": 0, "test": 1}[split]))


def get_train_batch(batch_size: int, step: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Fresh x0, t and noise every step, reproducible per step and seed."""
    return diffusion_batch(batch_size, torch.Generator().manual_seed(10_000 + step + 1_000_003 * seed))


# --- loss, step and sampler ---------------------------------------------------------------------


def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The predicted noise for the batch's x_t: (B, 2)."""
    x_t = noisy(batch["inputs"], batch["t"], batch["noise"], model.online.abar)
    return model(x_t, batch["t"])


def loss_fn(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """L_simple: the mean squared error of the predicted noise."""
    return F.mse_loss(forward(model, batch), batch["noise"])


@torch.no_grad()
def update_ema(model: nn.Module, decay: float = EMA_DECAY) -> None:
    for ema, online in zip(model.ema.parameters(), model.online.parameters()):
        ema.lerp_(online, 1 - decay)


def train_step(model: nn.Module, batch: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer) -> torch.Tensor:
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    update_ema(model)
    return loss.detach()


def make_optimizer(params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr)


def denoise_step(net: nn.Module, x: torch.Tensor, i: int, generator: torch.Generator) -> torch.Tensor:
    """x_{t-1} from x_t (Algorithm 2) at step index i: the posterior mean from eps_theta, plus sigma_t z."""
    beta, abar = net.betas[i], net.abar[i]
    eps = net(x, torch.full((len(x),), i, dtype=torch.long))
    mean = (x - beta / (1 - abar).sqrt() * eps) / (1 - beta).sqrt()
    if i == 0:
        return mean
    return mean + beta.sqrt() * torch.randn(x.shape, generator=generator)


@torch.no_grad()
def sample(model: nn.Module, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 2) samples of the EMA denoiser, from x_T ~ N(0, I) down to x_0."""
    x = torch.randn(n, 2, generator=generator)
    for i in reversed(range(T)):
        x = denoise_step(model.ema, x, i, generator)
    return x


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, projections: int = 128) -> torch.Tensor:
    """Mean 1-D Wasserstein-1 distance over fixed random directions; a and b hold equally many points."""
    directions = F.normalize(torch.randn(2, projections, generator=torch.Generator().manual_seed(7)), dim=0)
    pa, pb = (a @ directions).sort(dim=0).values, (b @ directions).sort(dim=0).values
    return (pa - pb).abs().mean()


@torch.no_grad()
def evaluate(model: nn.Module) -> dict[str, float]:
    """SWD between EVAL_SAMPLES samples and as many held-out points, beside its two references:
    the floor (a second data draw of the same size) and a Gaussian fitted to the data."""
    data = sample_data(EVAL_SAMPLES, torch.Generator().manual_seed(2))
    other = sample_data(EVAL_SAMPLES, torch.Generator().manual_seed(4))
    fit = torch.distributions.MultivariateNormal(other.mean(0), torch.cov(other.T))
    gaussian = fit.sample((EVAL_SAMPLES,))  # drawn under the tools' seeding, like the samples
    samples = sample(model, EVAL_SAMPLES, torch.Generator().manual_seed(3))
    return {
        "swd": sliced_wasserstein(samples, data).item(),
        "swd_floor": sliced_wasserstein(other, data).item(),
        "swd_gaussian": sliced_wasserstein(gaussian, data).item(),
    }
