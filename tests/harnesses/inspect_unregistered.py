"""Bug: the hidden layers live in a plain Python list, not an nn.ModuleList. The forward pass works,
but model.parameters() misses them: the optimizer never trains them, .to(device) leaves them on
the CPU, and state_dict() does not save them."""

from clean_mlp import get_batch, num_classes  # noqa: F401 - same data as the clean twin
from torch import nn


class ListMLP(nn.Module):
    def __init__(self, hidden: int = 64, depth: int = 2):
        super().__init__()
        self.inp = nn.Linear(16, hidden)
        self.hidden = [nn.Linear(hidden, hidden) for _ in range(depth)]  # the bug: use nn.ModuleList
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        h = self.inp(x).relu()
        for layer in self.hidden:
            h = layer(h).relu()
        return self.out(h)


def build_model():
    return ListMLP()
