"""Splits of one graph (transductive node classification): every split holds the same nodes and differs in which
are labelled, a boolean mask per split. The rows are shared by design; the labelled rows must not be."""

from __future__ import annotations

from typing import Any

import torch

from ..wire.findings import ERROR, finding
from ..worker.graph_batch import interaction_matrix, row_masks
from ..worker.harness import inputs_of


def transductive(a: str, batch_a: Any, b: str, batch_b: Any) -> list[dict[str, Any]] | None:
    """None unless the two splits' identical rows are one graph's nodes (a square matrix over them, and a mask
    that differs between the splits); then split_overlap for each mask that labels a node in both."""
    inputs = inputs_of(batch_a)
    rows = inputs.shape[0] if isinstance(inputs, torch.Tensor) and inputs.dim() > 0 else 0
    if interaction_matrix(batch_a, rows) is None:
        return None
    masks_a, masks_b = row_masks(batch_a, rows), row_masks(batch_b, rows)
    differing = [key for key in masks_a if key in masks_b and not torch.equal(masks_a[key], masks_b[key])]
    if not differing:
        return None  # nothing tells the splits apart: the overlap stands
    return [found for key in differing if (found := _shared_labels(a, masks_a[key], b, masks_b[key], key))]


def _shared_labels(a: str, mask_a: torch.Tensor, b: str, mask_b: torch.Tensor, key: str) -> dict[str, Any] | None:
    both = (mask_a & mask_b).nonzero().flatten()
    if both.numel() == 0:
        return None
    return finding(
        "split_overlap",
        ERROR,
        f"{key} labels {both.numel()} of {mask_b.numel()} nodes in both {a} and {b} (e.g. node "
        f"{', '.join(map(str, both[:3].tolist()))}): the graph is shared by design, its labelled nodes must not be",
        where=f"{a}/{b}",
        evidence={"mask": key, "shared_nodes": both[:20].tolist(), "count": both.numel()},
        suggestion=f"Draw the {a} and {b} masks from disjoint node sets (one permutation, cut once). Metrics on "
        f"{b} are inflated until then.",
    )
