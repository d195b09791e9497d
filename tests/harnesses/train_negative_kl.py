"""Bug: a loss dict whose KL term has its sign flipped (subtracted twice over); the loss
falls without limit: negative_kl and loss_unbounded. Clean twin: train_clean.py (no KL)."""

from torch.nn import functional as F
from train_clean import build_model, evaluate, get_batch, get_train_batch, num_classes  # noqa: F401


def loss_fn(model, batch):
    x, y = batch
    logits = model(x)
    kl = -(logits**2).mean()  # BUG: a KL is never negative
    return {"loss": F.cross_entropy(logits, y) + kl, "kl": kl}
