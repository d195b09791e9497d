"""A harness file as plain callables, for the processes that run outside the tools: the fine
grid reference and the Lightning peer. Mirrors the contract's defaults (docs/harness-contract.md):
cross-entropy for integer targets, MSE for float ones, Adam."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch


def default_loss(model: torch.nn.Module, batch: Any) -> torch.Tensor:
    inputs, targets = batch
    output = model(inputs)
    if not targets.is_floating_point():
        return torch.nn.functional.cross_entropy(output.reshape(-1, output.shape[-1]), targets.reshape(-1))
    return torch.nn.functional.mse_loss(output, targets)


@dataclass
class Problem:
    build_model: Callable[[], torch.nn.Module]
    train_batch: Callable[[int, int], Any]  # (batch_size, step) -> batch
    loss: Callable[[torch.nn.Module, Any], torch.Tensor]
    make_optimizer: Callable[[Any, float], torch.optim.Optimizer]


def load(path: str) -> Problem:
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Problem(
        build_model=module.build_model,
        train_batch=module.get_train_batch,
        loss=getattr(module, "loss_fn", default_loss),
        make_optimizer=getattr(module, "make_optimizer", lambda params, lr: torch.optim.Adam(params, lr=lr)),
    )
