"""Whether the seeds of a run are independent streams.

Each seed's job seeds torch, numpy and random with its seed, and a get_train_batch with a `seed`
parameter is given it. Two harness habits still put every seed on one stream: data drawn from a
generator seeded by the step alone (each seed trains on the same batches: the server compares the
digests below across seeds), and an evaluate() that calls torch.manual_seed (every seed's global RNG
restarts from the same state after each evaluation: caught here, around the call).
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import numpy as np
import torch

from ..wire.findings import WARNING, finding
from .job import seed_everything

DIGEST_STEPS = 3  # the first batches decide: step-seeded data agree from step 0


def update_digest(digest: Any, batch: Any) -> None:
    """Feed every tensor of a batch (a tensor, a tuple/list or a dict of them) into a hashlib digest."""
    if isinstance(batch, torch.Tensor):
        digest.update(str((batch.dtype, tuple(batch.shape))).encode())
        digest.update(batch.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(batch, dict):
        for key in sorted(batch, key=str):
            digest.update(str(key).encode())
            update_digest(digest, batch[key])
    elif isinstance(batch, (list, tuple)):
        for item in batch:
            update_digest(digest, item)
    else:
        digest.update(repr(batch).encode())


class BatchDigest:
    """A digest of the first DIGEST_STEPS training batches of one seed."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.steps = 0

    def add(self, step: int, batch: Any) -> None:
        if step == self.steps and step < DIGEST_STEPS:
            update_digest(self._hash, batch)
            self.steps += 1

    def hexdigest(self) -> str | None:
        return self._hash.hexdigest() if self.steps else None


def first_batches_digest(ctx: Any, seed: int, batch_size: int) -> str | None:
    """The digest of the batches `seed` trains on first, drawn as a training loop draws them (the global
    RNG just seeded); None when the data come from the model (on-policy) or from the fixed get_batch."""
    if ctx.harness.get_train_batch_fn is None or ctx.harness.on_policy:
        return None
    seed_everything(seed)
    digest = BatchDigest()
    for step in range(DIGEST_STEPS):
        digest.add(step, ctx.train_batch(batch_size, step, None, seed))
    return digest.hexdigest()


def rng_states() -> tuple[Any, ...]:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    return torch.get_rng_state(), cuda, np.random.get_state(), random.getstate()


def restore_rng(states: tuple[Any, ...]) -> None:
    cpu, cuda, numpy_state, python_state = states
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)
    np.random.set_state(numpy_state)
    random.setstate(python_state)


def evaluate_reseeded(before: int, after: int, seed: int) -> dict[str, Any]:
    """evaluate() changed torch's seed (torch.manual_seed inside it): the finding."""
    return finding(
        "evaluate_reseeds",
        WARNING,
        "evaluate() reseeds the global RNG "
        f"(torch.initial_seed() {before} before the call, {after} after, seed {seed}): "
        "in a training loop every seed restarts from the same random state after each evaluation, so their "
        "mean ± std is not seed variance. This run put the RNG back after evaluate, so its seeds stayed independent",
        where="evaluate",
        evidence={"seed": seed, "initial_seed_before": before, "initial_seed_after": after},
        suggestion="Draw evaluate's randomness from its own torch.Generator().manual_seed(...), or save "
        "torch.get_rng_state() before torch.manual_seed and restore it with torch.set_rng_state at the end.",
    )
