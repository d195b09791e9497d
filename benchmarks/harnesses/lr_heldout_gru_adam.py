"""Held-out LR problem: a GRU regressor of an alternating-sign sum over 12 noisy steps (MSE), Adam."""

from lr_heldout_data import sequences, split_seed
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(1, 32, batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        return self.head(self.gru(x)[0][:, -1])


def build_model():
    return Model()


def get_batch(batch_size: int, split: str = "train"):
    return sequences(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return sequences(batch_size, step)
