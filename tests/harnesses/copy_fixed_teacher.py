"""Clean: distillation from a fixed teacher of the student's own architecture (born-again networks). `teacher` is
frozen and built apart (its own weights, not a copy of the student's), so it is never meant to sync: no
copy_never_synced however long the run."""

import torch
from copy_ema_clean import DIM, HIDDEN, get_batch  # noqa: F401 - get_batch is the contract's
from torch import nn


class Distill(nn.Module):
    def __init__(self):
        super().__init__()
        self.student = nn.Sequential(nn.Linear(DIM + 1, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, DIM))
        self.teacher = nn.Sequential(nn.Linear(DIM + 1, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, DIM)).requires_grad_(
            False
        )

    def forward(self, x):
        return self.student(x)


def build_model():
    return Distill()


def loss_fn(model, batch):
    x, _ = batch
    with torch.no_grad():
        soft = model.teacher(x)
    return nn.functional.mse_loss(model(x), soft)
