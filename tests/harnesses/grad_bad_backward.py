"""Bug: a hand-written Swish autograd.Function whose backward forgets the product rule:
d/dx [x * sigmoid(x)] = s + x * s * (1 - s), but backward returns only s. Training still runs; gradients are wrong."""

import torch
from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


class Swish(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.sigmoid(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)  # the bug: missing + x * s * (1 - s)


class SwishLayer(nn.Module):
    def forward(self, x):
        return Swish.apply(x)


def build_model():
    return nn.Sequential(nn.Linear(16, 64), SwishLayer(), nn.Linear(64, num_classes))


def gated(x, gate):
    """Bug: the gate is detached (copied from an inference path), so autograd gives it a zero gradient."""
    return x * torch.sigmoid(gate.detach())
