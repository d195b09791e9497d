"""Clean: train_clean.py with a train_step that returns, beside the loss, an exploration epsilon that
decays linearly with the updates taken (as a DQN's does) and a KL-like weight warming up: both must
reach training_status's record and the run's plot, not only TensorBoard."""

import torch
from torch.nn import functional as F
from train_clean import build_model as _build, evaluate, get_batch, get_train_batch, num_classes, objective  # noqa: F401

DECAY = 100  # updates over which epsilon falls from 1 to 0.1


def build_model():
    model = _build()
    model.updates = 0  # optimiser steps taken: drives the schedules
    return model


def train_step(model, batch, optimizer):
    optimizer.zero_grad()
    x, y = batch
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    model.updates += 1
    epsilon = 0.1 + 0.9 * max(0.0, 1 - model.updates / DECAY)
    return {"loss": loss.detach(), "epsilon": torch.tensor(epsilon), "kl_weight": min(1.0, model.updates / 50)}
