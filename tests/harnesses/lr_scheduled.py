"""Clean twin for lr_sweep with make_scheduler: clean_mlp.py under a linear warmup to a tenth of
the base rate (a schedule written for base rates quoted 10x high). The grid sweeps the base
rate under it, so its best base rate lies above the unscheduled twin's."""

import torch
from clean_mlp import build_model, get_batch, num_classes  # noqa: F401 - same model and data as the clean twin


def make_scheduler(optimizer, total_steps):
    warmup = max(1, total_steps // 10)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.1 * min(1.0, (step + 1) / warmup))
