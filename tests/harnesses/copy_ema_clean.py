"""Clean twin: a regressor with an EMA copy of its weights, as DDPM keeps one of its denoiser. The model holds
`net` and `ema`, a deepcopy frozen with requires_grad_(False); train_step takes an Adam step on `net`'s MSE, then
moves each `ema` parameter 10 % of the way towards `net`'s (decay 0.9). 194 parameters in `net`, 388 with the EMA
copy. No tool may warn."""

import copy

import torch
from torch import nn

DECAY = 0.9
DIM, HIDDEN = 2, 32


class WithEMA(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(DIM + 1, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, DIM))
        self.ema = copy.deepcopy(self.net).requires_grad_(False)  # evaluated and sampled from, never trained

    def forward(self, x):
        return self.net(x)  # (B, DIM)


def build_model():
    return WithEMA()


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    teacher = torch.randn(DIM + 1, DIM, generator=torch.Generator().manual_seed(42))
    x = torch.randn(batch_size, DIM + 1, generator=g)
    return x, torch.tanh(x @ teacher)  # (B, 3) -> (B, 2)


def loss_fn(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


@torch.no_grad()
def update_ema(model, decay=DECAY):
    torch._foreach_lerp_(list(model.ema.parameters()), list(model.net.parameters()), 1 - decay)


def train_step(model, batch, optimizer):
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(model, batch)
    loss.backward()
    optimizer.step()
    update_ema(model)
    return loss.detach()
