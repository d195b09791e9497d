"""Bug (default): a token model without nn.Embedding (one-hot inputs) whose "running"
context is the mean over the WHOLE sequence instead of the cumulative mean up to t, so the
prediction at t sees tokens after t. build_model(cumulative=True) is the clean twin.

Token ids are integers and there is no embedding module to differentiate at, so
check_dependencies perturbs tokens instead."""

import torch
from dep_causal_lm import VOCAB, get_batch, num_classes  # noqa: F401 - same tokens as the tiny LM
from torch import nn
from torch.nn import functional as F


class RunningMeanLM(nn.Module):
    def __init__(self, cumulative: bool):
        super().__init__()
        self.cumulative = cumulative
        self.inp = nn.Linear(VOCAB, 32)
        self.out = nn.Linear(64, VOCAB)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:  # (B, T) token ids
        h = self.inp(F.one_hot(idx, VOCAB).float())  # (B, T, 32)
        if self.cumulative:
            steps = torch.arange(1, idx.shape[1] + 1, device=idx.device).view(1, -1, 1)
            context = h.cumsum(dim=1) / steps
        else:
            context = h.mean(dim=1, keepdim=True).expand_as(h)  # BUG: averages over future tokens too
        return self.out(torch.cat([h, context], dim=-1))


def build_model(cumulative: bool = False):
    return RunningMeanLM(cumulative)
