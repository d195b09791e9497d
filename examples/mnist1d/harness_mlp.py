"""
Harness: the MNIST-1D MLP (Greydanus & Kobak, ICML 2024; paper: 68 % test acc).

Two hidden layers of 100 ReLU units, 15,210 parameters. Following the authors'
notebooks/models.py (MLPBase), the second hidden layer is residual:
h2 = h1 + relu(W2 h1). build_model(residual=False) gives the plain MLP.
"""

import torch
import torch.nn as nn
from mnist1d_data import evaluate, get_batch, get_train_batch  # noqa: F401 (contract names)

num_classes = 10


class MLP(nn.Module):
    def __init__(self, hidden_size=100, residual=True, seq_len=40):
        super().__init__()
        self.fc1 = nn.Linear(seq_len, hidden_size)
        self.fc2 = nn.Linear(hidden_size, hidden_size)
        self.fc3 = nn.Linear(hidden_size, num_classes)
        self.residual = residual

    def forward(self, x):  # x: (B, 40)
        h = torch.relu(self.fc1(x))  # (B, H)
        h2 = torch.relu(self.fc2(h))  # (B, H)
        h = h + h2 if self.residual else h2
        return self.fc3(h)  # (B, 10) logits


def build_model(**model_kwargs) -> nn.Module:
    return MLP(**model_kwargs)


def make_optimizer(params, lr=1e-2):
    # the authors' train.py (get_model_args): Adam, lr 1e-2, weight_decay 0
    return torch.optim.Adam(params, lr=lr, weight_decay=0)
