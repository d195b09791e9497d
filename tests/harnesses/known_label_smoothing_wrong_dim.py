"""Planted bug: log_softmax over the batch instead of the classes. Twin of known_label_smoothing.py."""

import torch
from known_label_smoothing import build_model, get_batch  # noqa: F401


def label_smoothed_ce(logits, targets, smoothing=0.1):
    log_probs = torch.log_softmax(logits, dim=0)  # BUG: normalises over the batch
    nll = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    uniform = -log_probs.mean(dim=-1)
    return ((1 - smoothing) * nll + smoothing * uniform).mean()
