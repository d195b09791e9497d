"""LR problem: an MLP classifier trained with Adam."""

from lr_teacher_data import CLASSES, FEATURES, classification, split_seed
from torch import nn

num_classes = CLASSES


def build_model():
    return nn.Sequential(nn.Linear(FEATURES, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, CLASSES))


def get_batch(batch_size: int, split: str = "train"):
    return classification(batch_size, split_seed(split))


def get_train_batch(batch_size: int, step: int):
    return classification(batch_size, step)
