"""Planted bug: one noise draw broadcast across the batch (every example gets the same eps).
Everything else is the clean harness, ddpm.py."""

import ddpm
import torch
from ddpm import *  # noqa: F403 - the clean harness, with one function replaced


def diffusion_batch(n, generator):
    return {
        "inputs": ddpm.sample_data(n, generator),
        "t": torch.randint(0, ddpm.T, (n,), generator=generator),
        "noise": torch.randn(1, 2, generator=generator).expand(n, 2),  # BUG: one draw for all
    }


ddpm.diffusion_batch = diffusion_batch
