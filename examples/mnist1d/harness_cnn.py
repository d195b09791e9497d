"""
Harness: the MNIST-1D CNN (Greydanus & Kobak, ICML 2024; paper: 94 % test acc).

Three strided Conv1d layers + a linear read-out, 5,210 parameters at the paper's
width (channels=25). Trained with Adam lr 1e-2, batch 100, 6,000 steps.
Ablations: build_model(channels=...) or build_model(activation="identity")
(the latter makes the whole net linear, so it should fall to ~logreg accuracy).
"""

import torch
import torch.nn as nn
from mnist1d_data import evaluate, get_batch, get_train_batch  # noqa: F401 (contract names)

num_classes = 10
ACTIVATIONS = {"relu": nn.ReLU, "identity": nn.Identity}


class CNN(nn.Module):
    def __init__(self, channels=25, activation="relu", seq_len=40):
        super().__init__()
        act = ACTIVATIONS[activation]
        c = channels
        # length 40 -> 19 -> 10 -> 5 (stride 2 each; L_out = (L + 2p - k) // s + 1)
        self.features = nn.Sequential(
            nn.Conv1d(1, c, 5, stride=2, padding=1),
            act(),
            nn.Conv1d(c, c, 3, stride=2, padding=1),
            act(),
            nn.Conv1d(c, c, 3, stride=2, padding=1),
            act(),
        )
        out_len = seq_len
        for k in (5, 3, 3):
            out_len = (out_len + 2 - k) // 2 + 1
        self.head = nn.Linear(c * out_len, num_classes)  # 125 -> 10 at the paper's size

    def forward(self, x):  # x: (B, 40)
        h = self.features(x.unsqueeze(1))  # (B, 1, 40) -> (B, C, 5)
        return self.head(h.flatten(1))  # (B, C*5) -> (B, 10) logits


def build_model(**model_kwargs) -> nn.Module:
    return CNN(**model_kwargs)


def make_optimizer(params, lr=1e-2):
    # the authors' train.py (get_model_args): Adam, lr 1e-2, weight_decay 0
    return torch.optim.Adam(params, lr=lr, weight_decay=0)
