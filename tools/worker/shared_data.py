"""Seeds that trained on the same data: a mean ± std over them is initialisation noise only.

The digests of each seed's first get_train_batch batches (seed_streams.py) are compared here;
seeds whose digests agree drew identical batches, as a get_train_batch seeded by the step alone
does. Torch-free: the server judges a training run's seeds with it, the worker an ablation's.
"""

from __future__ import annotations

from typing import Any

from ..wire.findings import WARNING, finding


def shared_data_finding(digests: dict[int, str | None]) -> dict[str, Any] | None:
    """A warning naming the seeds that drew identical first batches; None when every seed's differ
    (a seed without a digest, on-policy or without get_train_batch, is left out)."""
    groups: dict[str, list[int]] = {}
    for seed, digest in digests.items():
        if digest is not None:
            groups.setdefault(digest, []).append(seed)
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
