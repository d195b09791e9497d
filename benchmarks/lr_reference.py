"""The "best learning rate" of an LR-finder problem, by brute force.

For each rate of a fine log grid (POINTS_PER_DECADE per decade over the problem's range)
and each of SEEDS initialisations, train REF_STEPS steps on the problem's stream of
fresh batches; score a rate by its training loss averaged over the last TAIL steps and
over the seeds (fresh batches, so this is an unbiased estimate of the loss at the end of
a short run). A run whose loss turns NaN/Inf scores infinity. The best rate is the one
with the lowest score averaged with its two grid neighbours: loss-vs-rate curves have flat
basins where the raw minimum is seed noise, and the neighbourhood average picks the basin's
middle.

Usage: python lr_reference.py HARNESS MIN_LR MAX_LR BATCH_SIZE  (prints one JSON line)
"""

from __future__ import annotations

import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor

import torch

from harness_loader import load

POINTS_PER_DECADE = 5
SEEDS = (0, 1, 2)
REF_STEPS = 100
TAIL = 10


def grid(min_lr: float, max_lr: float) -> list[float]:
    count = round(math.log10(max_lr / min_lr) * POINTS_PER_DECADE) + 1
    return [min_lr * (max_lr / min_lr) ** (i / (count - 1)) for i in range(count)]


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
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    tail = torch.stack(losses[-TAIL:]).mean().item()
    return tail if math.isfinite(tail) else math.inf


def main() -> None:
    path, min_lr, max_lr, batch_size = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    lrs = grid(min_lr, max_lr)
    jobs = [(path, lr, seed, batch_size) for lr in lrs for seed in SEEDS]
    with ProcessPoolExecutor(max_workers=2) as pool:
        scores = list(pool.map(score, *zip(*jobs)))
    per_lr = [sum(scores[i * len(SEEDS) : (i + 1) * len(SEEDS)]) / len(SEEDS) for i in range(len(lrs))]
    basin = [sum(per_lr[max(0, i - 1) : i + 2]) / len(per_lr[max(0, i - 1) : i + 2]) for i in range(len(lrs))]
    best = min(range(len(lrs)), key=basin.__getitem__)
    print(json.dumps({"best_lr": lrs[best], "lrs": lrs, "scores": per_lr}))


if __name__ == "__main__":
    main()
