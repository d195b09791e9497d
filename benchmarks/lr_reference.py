"""The "best learning rate" of an LR-finder problem for one seed, by brute force.

For each rate of a log grid (POINTS_PER_DECADE per decade over [MIN_LR, MAX_LR]: 37 points
over 1e-6..1) and each seed, train REF_STEPS steps from that seed's initialisation on the
problem's stream of fresh batches (the same batches lr_sweep's range test sees); score a rate
by its training loss averaged over the last TAIL steps (fresh batches: an unbiased estimate of
the loss at the end of the run). A run whose loss turns NaN/Inf scores infinity. The seed's
best rate is the grid rate of the lowest score: a suggestion hits when it lies within 3x.

Usage: python lr_reference.py HARNESS BATCH_SIZE SEED [SEED ...]   (prints one JSON line)
"""

from __future__ import annotations

import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor

import torch
from harness_loader import load

MIN_LR, MAX_LR, POINTS_PER_DECADE = 1e-6, 1.0, 6
REF_STEPS = 200
TAIL = 20
WORKERS = 2  # the benchmark machine's cores


def grid() -> list[float]:
    count = round(math.log10(MAX_LR / MIN_LR) * POINTS_PER_DECADE) + 1
    return [MIN_LR * (MAX_LR / MIN_LR) ** (i / (count - 1)) for i in range(count)]


def score(path: str, lr: float, seed: int, batch_size: int) -> float:
    torch.set_num_threads(1)
    problem = load(path)
    torch.manual_seed(seed)
    model = problem.build_model()
    optimizer = problem.make_optimizer(model.parameters(), lr)
    losses = []
    for step in range(REF_STEPS):
        optimizer.zero_grad(set_to_none=True)
        loss = problem.loss(model, problem.train_batch(batch_size, step))
        if not torch.isfinite(loss):
            return math.inf
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    tail = torch.stack(losses[-TAIL:]).mean().item()
    return tail if math.isfinite(tail) else math.inf


def main() -> None:
    path, batch_size, seeds = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3:]]
    lrs = grid()
    jobs = [(path, lr, seed, batch_size) for seed in seeds for lr in lrs]
    with ProcessPoolExecutor(max_workers=WORKERS) as pool:
        scores = list(pool.map(score, *zip(*jobs), chunksize=4))
    per_seed = {}
    for k, seed in enumerate(seeds):
        row = scores[k * len(lrs) : (k + 1) * len(lrs)]
        best = min(range(len(lrs)), key=row.__getitem__)
        per_seed[str(seed)] = {"best_lr": lrs[best], "scores": [s if math.isfinite(s) else None for s in row]}
    print(json.dumps({"lrs": lrs, "seeds": per_seed}))


if __name__ == "__main__":
    main()
