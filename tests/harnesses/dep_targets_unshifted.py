"""Bug: a language model's targets are its inputs, not shifted by one: the model is trained to
copy the token it reads. The model itself is the clean causal one.

check_dependencies(mode="causal") reports future_leakage at get_batch."""

import torch
from dep_causal_lm import SEQ_LEN, VOCAB, build_model, num_classes  # noqa: F401


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed({"train": 0, "test": 1}[split])
    tokens = torch.randint(0, VOCAB, (batch_size, SEQ_LEN), generator=g)
    return tokens, tokens.clone()  # BUG: tokens[:, :-1], tokens[:, 1:]
