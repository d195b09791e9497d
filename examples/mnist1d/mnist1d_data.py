"""
MNIST-1D data shared by the four harnesses (Greydanus & Kobak, ICML 2024).

The dataset is *generated* offline by the `mnist1d` package with its default
args (seed 42): 4,000 train / 1,000 test signals of length 40, already centred
to mean 0 / std 1 by the generator. We never call `get_dataset` (that path
downloads a pickle over the network).

Batches, two flavours:
  get_batch(n, split)        the contract's fixed batch: the same n examples on
                             every call (own seeded torch.Generator, never the
                             global RNG), used by the checking tools.
  get_train_batch(n, step)   optional extra: batch number `step` of an endless
                             stream that reshuffles the train set every epoch,
                             so real training sees different data each step.
                             Epoch e's order comes from a generator seeded with
                             STREAM_SEED + e, so batch `step` is reproducible
                             on its own. The training job uses it when a
                             harness defines it, else falls back to get_batch.
"""

import functools
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

BATCH_SEED = 1234  # seed of the fixed get_batch examples
STREAM_SEED = 0  # seed of the epoch-shuffled training stream
SPLITS = ("train", "test")


CACHE = Path(__file__).with_name(".mnist1d-cache.npz")  # generated data, reused across processes


def _generate() -> dict:
    """Run the package's generator (~2 s) and keep the arrays we use."""
    from mnist1d.data import get_dataset_args, make_dataset

    d = make_dataset(get_dataset_args())
    return {k: d[k] for k in ("x", "y", "x_test", "y_test")}


@functools.lru_cache(maxsize=1)
def _dataset():
    """Generate once (deterministic given the args' seed), then load from a disk cache:
    every tool call imports this module in a fresh worker process."""
    try:
        d = dict(np.load(CACHE))
    except (OSError, ValueError):
        d = _generate()
        tmp = CACHE.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **d)
        os.replace(tmp, CACHE)  # atomic: parallel workers never read half a file
    return {
        "train": (
            torch.tensor(d["x"], dtype=torch.float32),  # (4000, 40)
            torch.tensor(d["y"], dtype=torch.int64),
        ),  # (4000,)
        "test": (
            torch.tensor(d["x_test"], dtype=torch.float32),  # (1000, 40)
            torch.tensor(d["y_test"], dtype=torch.int64),
        ),  # (1000,)
    }


def get_batch(batch_size: int, split: str = "train"):
    """Fixed batch: same (batch_size, split) -> same examples -> (x (B,40), y (B,))."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    x, y = _dataset()[split]
    g = torch.Generator().manual_seed(BATCH_SEED + SPLITS.index(split))
    n = x.shape[0]
    if batch_size <= n:
        # without replacement; batch n is a prefix of batch m > n (nested overfit sets)
        idx = torch.randperm(n, generator=g)[:batch_size]
    else:
        idx = torch.randint(n, (batch_size,), generator=g)
    return x[idx], y[idx]


def get_train_batch(batch_size: int, step: int, seed: int = 0):
    """Batch number `step` of the epoch-shuffled train stream of `seed` -> (x (B,40), y (B,))."""
    x, y = _dataset()["train"]
    n = x.shape[0]
    # stream positions of this batch; a batch may straddle two epochs
    pos = torch.arange(step * batch_size, (step + 1) * batch_size)
    epochs = pos // n
    idx = torch.empty_like(pos)
    for e in epochs.unique().tolist():
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(STREAM_SEED + e + 1_000_003 * seed))
        m = epochs == e
        idx[m] = perm[pos[m] % n]
    return x[idx], y[idx]


@torch.no_grad()
def evaluate(model) -> dict:
    """Accuracy in percent (the paper's table unit) and mean CE on all 1,000 test examples."""
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        x, y = (t.to(device) for t in _dataset()["test"])
        logits = model(x)  # (1000, 10)
        acc = (logits.argmax(-1) == y).sum().item() * 100 / y.numel()
        loss = F.cross_entropy(logits, y).item()
    finally:
        model.train(was_training)
    return {"test_accuracy": acc, "test_loss": loss}
