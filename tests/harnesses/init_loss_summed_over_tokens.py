"""Bug: the clean causal LM's cross-entropy summed over its 12 positions and averaged over the batch only,
where the paper averages per token: with expected_init_loss = ln 16 the loss at init is ~12x too large, and
check_initialization must say "a sum over D=12 elements"."""

from init_attention_clean import build_model, get_batch  # noqa: F401 - the clean twin
from torch.nn import functional as F


def loss_fn(model, batch):
    tokens, targets = batch
    logits = model(tokens)  # (B, T, V)
    return F.cross_entropy(logits.transpose(1, 2), targets, reduction="sum") / tokens.shape[0]  # the bug
