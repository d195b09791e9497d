"""Planted bug: the sampler reads the network's output as x0 while the loss trains it to predict
eps. Everything else is the clean harness, ddpm.py."""

import ddpm
import torch
from ddpm import *  # noqa: F403 - the clean harness, with one function replaced


def denoise_step(net, x, i, generator):
    beta, abar = net.betas[i], net.abar[i]
    x0 = net(x, torch.full((len(x),), i, dtype=torch.long))  # BUG: this is eps, not x0
    abar_prev = net.abar[i - 1] if i > 0 else torch.ones(())
    mean = (abar_prev.sqrt() * beta * x0 + (1 - beta).sqrt() * (1 - abar_prev) * x) / (1 - abar)
    return mean if i == 0 else mean + beta.sqrt() * torch.randn(x.shape, generator=generator)


ddpm.denoise_step = denoise_step
