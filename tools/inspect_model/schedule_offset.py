"""inspect_model's schedule probe: a noise schedule kept as buffers (a diffusion model's betas and alpha-bars).

For every 1-D float buffer b of length T >= 2 with values in (0, 1) (a beta schedule), and every other 1-D
buffer a of the same length: a == cumprod(1 - b) is the cumulative product alpha-bar_t = prod_{s <= t}(1 - beta_s).
When some buffer equals that product shifted by one step, [1, cumprod(1 - b)[:-1]] (the product over s < t),
and no buffer of the model equals the product itself, alpha-bar is one step behind beta: alpha-bar_0 = 1, the
first level adds no noise and every level is one step too clean. A model that keeps both (alpha-bar and an
`alphas_cumprod_prev`, as a sampler needs) holds the product itself and draws nothing. Buffers only, no pass.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..wire.findings import WARNING, finding


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-5, atol=1e-7))


def _vectors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's 1-D float buffers of length >= 2, one name per distinct content (a frozen copy repeats them)."""
    found: dict[str, torch.Tensor] = {}
    for name, value in model.named_buffers():
        if value.dim() == 1 and len(value) >= 2 and value.is_floating_point():
            vector = value.detach().double().cpu()
            if not any(_close(vector, kept) for kept in found.values()):
                found[name] = vector
    return found


def schedule_findings(model: nn.Module) -> list[dict[str, Any]]:
    vectors = _vectors(model)
    found = []
    for beta_name, beta in vectors.items():
        if not bool(((beta > 0) & (beta < 1)).all()):
            continue
        product = torch.cumprod(1 - beta, dim=0)
        if any(_close(v, product) for v in vectors.values()):
            continue
        shifted = torch.cat([torch.ones(1, dtype=product.dtype), product[:-1]])
        behind = [name for name, v in vectors.items() if _close(v, shifted)]
        if behind:
            found.append(_behind_finding(beta_name, behind[0], float(product[0])))
    return found


def _behind_finding(beta_name: str, abar_name: str, first: float) -> dict[str, Any]:
    return finding(
        "schedule_off_by_one",
        WARNING,
        f"the buffer `{abar_name}` is the product of (1 - `{beta_name}`) over the steps *before* t, not up to t: it "
        f"starts at 1, so the first noise level adds no noise (alpha-bar_0 should be 1 - beta_0 = {first:.4g}) and "
        "every level is one step too clean",
        where=abar_name,
        evidence={"betas": beta_name, "alpha_bar": abar_name},
        suggestion="alpha_bar = torch.cumprod(1 - betas, dim=0) (index t holds prod over s <= t); keep a shifted copy "
        "only as a separate alphas_cumprod_prev for the sampler. After fixing, call inspect_model again.",
    )
