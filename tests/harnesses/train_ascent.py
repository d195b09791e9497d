"""Bug: the training step climbs the loss (gradient ascent: the loss's sign flipped in backward).
The objective (accuracy) falls: objective_not_improving. Clean twin: train_clean.py."""

from torch.nn import functional as F
from train_clean import build_model, evaluate, get_batch, get_train_batch, num_classes, objective  # noqa: F401


def train_step(model, batch, optimizer):
    x, y = batch
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    (-loss).backward()  # BUG: ascent
    optimizer.step()
    return loss
