"""Bug: the MLM labels are the original tokens at every real position, not -100 outside the
selected 15%: the loss mostly asks the model to copy the token it reads. check_dependencies at
its defaults reports loss_on_unselected_positions."""

import torch
from dep_encoder_mlm import build_model, corrupt, forward, loss_fn, tokens  # noqa: F401


def get_batch(batch_size: int, split: str = "train"):
    ids, real, selected, g = tokens(batch_size, split)
    labels = torch.where(real.bool(), ids, -100)  # every real position scored, selected or not
    return {"input_ids": corrupt(ids, selected, g), "attention_mask": real, "labels": labels}
