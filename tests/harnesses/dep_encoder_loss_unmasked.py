"""Bug: loss_fn scores every position against the uncorrupted tokens it rebuilds from the labels'
inputs, ignoring which positions the batch selected: the gradient reaches positions whose label
is -100. check_dependencies at its defaults reports loss_on_unselected_positions (error)."""

import torch
from dep_encoder_mlm import VOCAB, build_model, forward, get_batch  # noqa: F401
from torch.nn import functional as F


def loss_fn(model, batch):
    logits = forward(model, batch)
    targets = torch.where(batch["labels"] == -100, batch["input_ids"], batch["labels"])  # every position scored
    return F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
