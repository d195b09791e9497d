"""Clean twin of grad_bad_backward.py: the Swish autograd.Function with the correct backward."""

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
        s = torch.sigmoid(x)
        return grad_output * (s + x * s * (1 - s))


def swish_scaled(x, scale):
    """A plain function of two inputs built on the custom op: checks gradients w.r.t. both."""
    return Swish.apply(x) * scale


class SwishLayer(nn.Module):
    def forward(self, x):
        return Swish.apply(x)


def build_model():
    return nn.Sequential(nn.Linear(16, 64), SwishLayer(), nn.Linear(64, num_classes))


def gated(x, gate):
    """Clean twin of grad_bad_backward.gated: both inputs stay in the graph."""
    return x * torch.sigmoid(gate)
