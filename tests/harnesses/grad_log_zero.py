"""Bug: log-compressed features computed as log(relu(h)); ReLU outputs exact zeros, so log gives -inf and
the loss is NaN."""

import torch
from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


class LogCompress(nn.Module):
    def forward(self, h):
        return torch.log(torch.relu(h))  # the bug: needs log1p, or log(relu(h) + eps)


class LogFeatureNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 64)
        self.compress = LogCompress()
        self.out = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.out(self.compress(self.fc(x)))


def build_model():
    return LogFeatureNet()
