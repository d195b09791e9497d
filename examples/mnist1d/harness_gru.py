"""
Harness: the MNIST-1D GRU (Greydanus & Kobak, ICML 2024; paper: 91 % test acc).

As in the authors' notebooks/models.py (GRUBase): a bidirectional GRU with
hidden size 6 reads the signal one scalar per time step; the outputs of all 40
steps are flattened into a linear read-out. 324 GRU + 4,810 linear = 5,134
parameters, i.e. the same ~5k budget as the CNN.
"""

import torch
import torch.nn as nn
from mnist1d_data import evaluate, get_batch, get_train_batch  # noqa: F401 (contract names)

num_classes = 10


class GRU(nn.Module):
    def __init__(self, hidden_size=6, bidirectional=True, seq_len=40):
        super().__init__()
        self.gru = nn.GRU(1, hidden_size, batch_first=True, bidirectional=bidirectional)
        k = 2 if bidirectional else 1
        self.head = nn.Linear(k * hidden_size * seq_len, num_classes)  # 480 -> 10

    def forward(self, x):  # x: (B, 40)
        h, _ = self.gru(x.unsqueeze(-1))  # (B, 40, 1) -> (B, 40, k*H); h0 = zeros
        return self.head(h.flatten(1))  # (B, 40*k*H) -> (B, 10) logits


def build_model(**model_kwargs) -> nn.Module:
    return GRU(**model_kwargs)


def make_optimizer(params, lr=1e-2):
    # the authors' train.py (get_model_args): Adam, lr 1e-2, weight_decay 0
    return torch.optim.Adam(params, lr=lr, weight_decay=0)
