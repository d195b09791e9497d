"""Bug: padding targets are -1 but the harness keeps PyTorch's ignore_index (-100), so the
loss would index logits with -1. inspect_data: label_out_of_range (only -100 is padding)."""

from data_token_batch import SEQ, build_model, get_batch as padded_batch, num_classes  # noqa: F401


def get_batch(batch_size: int, split: str = "train"):
    tokens, targets = padded_batch(batch_size, split)
    return tokens, targets.masked_fill(targets == -100, -1)  # bug: -1 is not the ignore_index
