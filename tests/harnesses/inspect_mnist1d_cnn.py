"""Clean twin: the MNIST-1D paper's CNN (Greydanus 2020), which has exactly 5,210 parameters:
conv1 1->25 (k5) 150, conv2 and conv3 25->25 (k3) 1,900 each, linear 125->10 1,260.
Inputs are 40-sample signals; random ones suffice for shapes and counts."""

import torch
from torch import nn

num_classes = 10


class ConvBase(nn.Module):
    def __init__(self, channels: int = 25, linear_in: int = 125):
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)  # (B, 25, 19)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)  # (B, 25, 10)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)  # (B, 25, 5)
        self.linear = nn.Linear(linear_in, num_classes)

    def forward(self, x):  # x: (B, 40)
        h = x.view(-1, 1, x.shape[-1]).relu()
        h = self.conv1(h).relu()
        h = self.conv2(h).relu()
        h = self.conv3(h).relu()
        return self.linear(h.view(h.shape[0], -1))


def build_model(**sizes):
    return ConvBase(**sizes)


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    return torch.randn(batch_size, 40, generator=g), torch.randint(0, num_classes, (batch_size,), generator=g)
