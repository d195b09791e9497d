"""Bug: get_train_batch seeds its generator with the step alone, so seeds 0, 1, 2 of a run all train
on the same batches; their mean ± std measures initialisation only (seeds_share_data)."""

import torch
from seeds_clean import TEACHER, build_model, evaluate, get_batch, num_classes  # noqa: F401


def get_train_batch(batch_size: int, step: int):
    x = torch.randn(batch_size, 16, generator=torch.Generator().manual_seed(step))
    return x, (x @ TEACHER).argmax(dim=1)
