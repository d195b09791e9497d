"""Seeds that trained on the same data: a run's mean ± std over them is initialisation noise only.

Each seed's worker hashes its first get_train_batch batches (tools/worker/seed_streams.py); seeds
whose digests agree drew identical batches, as a get_train_batch seeded by the step alone does.
"""

from __future__ import annotations

from typing import Any

from .run_store import SeedRun
from .worker.findings import WARNING, finding


def shared_data_finding(seeds: list[SeedRun]) -> dict[str, Any] | None:
    """A warning naming the seeds that drew identical first batches; None when every seed's differ."""
    groups: dict[str, list[int]] = {}
    for seed_run in seeds:
        if seed_run.data_digest is not None:
            groups.setdefault(seed_run.data_digest, []).append(seed_run.seed)
    shared = [sorted(group) for group in groups.values() if len(group) > 1]
    if not shared:
        return None
    named = "; ".join("seeds " + ", ".join(map(str, group)) for group in shared)
    return finding(
        "seeds_share_data",
        WARNING,
        f"{named} trained on identical batches (their first get_train_batch batches are equal): "
        "get_train_batch ignores the seed, so the spread over seeds is initialisation noise only, not seed variance",
        where="get_train_batch",
        evidence={"groups": shared},
        suggestion="Give get_train_batch a `seed` parameter (each seed's run passes its own) and mix it into the "
        "generator, e.g. torch.Generator().manual_seed(1_000_003 * seed + step); or draw from the global RNG, "
        "which the worker seeds per seed (torch.initial_seed() reads the seed).",
    )
