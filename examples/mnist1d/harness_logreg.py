"""
Harness: MNIST-1D logistic regression (Greydanus & Kobak, ICML 2024; paper: 32 %).

A single Linear 40 -> 10 on the raw signal (410 parameters): the linear baseline
that shows MNIST-1D needs nonlinear, translation-aware features.
"""

import torch
import torch.nn as nn
from mnist1d_data import evaluate, get_batch, get_train_batch  # noqa: F401 (contract names)

num_classes = 10


def build_model(seq_len=40) -> nn.Module:
    return nn.Linear(seq_len, num_classes)  # (B, 40) -> (B, 10) logits


def make_optimizer(params, lr=1e-2):
    # the authors' train.py (get_model_args): Adam, lr 1e-2, weight_decay 0
    return torch.optim.Adam(params, lr=lr, weight_decay=0)
