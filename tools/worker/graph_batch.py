"""A batch whose rows interact by design: one graph whose rows are its nodes (GCN, GAT), or any set that comes
with a square matrix over its own rows (an adjacency, a normalised Laplacian, a kernel). Row i's output then
depends on row j by construction, and every split holds every row (transductive learning): the splits differ
in which rows are labelled, a boolean mask per split. The tools that assume independent rows ask here first."""

from __future__ import annotations

from typing import Any

import torch


def _elements(batch: Any) -> list[tuple[str, Any]]:
    if isinstance(batch, dict):
        return [(f"batch[{key!r}]", value) for key, value in batch.items()]
    if isinstance(batch, (list, tuple)):
        return [(f"batch[{index}]", value) for index, value in enumerate(batch)]
    return []


def interaction_matrix(batch: Any, rows: int) -> str | None:
    """Where the batch holds a (rows, rows) tensor over its own rows (rows >= 2), or None."""
    for where, value in _elements(batch):
        if isinstance(value, torch.Tensor) and rows >= 2 and tuple(value.shape) == (rows, rows):
            return where
    return None


def row_masks(batch: Any, rows: int) -> dict[str, torch.Tensor]:
    """The boolean (rows,) tensors of a batch: which rows a split labels."""
    return {
        where: value
        for where, value in _elements(batch)
        if isinstance(value, torch.Tensor) and value.dtype == torch.bool and tuple(value.shape) == (rows,)
    }
