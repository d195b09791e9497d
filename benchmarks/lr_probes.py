"""Would measuring beat reading the range test? A study, not a figure with a target.

For every LR problem of the three sets and each seed: a range test of RANGE_STEPS steps over
MIN_LR..MAX_LR, judged by tools/lr_sweep/judge.py as lr_sweep judges it; then, when the test learned, two
constant-rate runs of PROBE_STEPS steps from the same init at the suggestion / sqrt(3) and x sqrt(3),
and the one with the lower final loss (mean of its last 10 % of steps) is picked. Both picks are
scored like benchmarks/run.py scores lr_sweep: within 3x of the seed's best rate in the cached
reference grids (lr_reference.json). Wall time on two workers: RANGE_STEPS + PROBE_STEPS steps.

Usage: python lr_probes.py RANGE_STEPS PROBE_STEPS   (run benchmarks/run.py --lr-only for each --set first)
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from concurrent.futures import ProcessPoolExecutor

import torch
from harness_loader import load
from lr_problems import BATCH_SIZE, HELD_OUT, ISSUE_SHAPED, MAX_LR, MIN_LR, PROBLEMS, SEEDS
from run import HERE, REFERENCE_CACHE, hit

from implement_paper.tools.lr_sweep import judge as lr_judge
from implement_paper.tools.lr_sweep.check import blown_up, lr_values, optimizer_family


def train(path: str, seed: int, rates: list[float], steps: int, stop: bool) -> tuple[list[float], str]:
    """Losses of `steps` steps at rates[step] (the last rate from there on), from the seed's init."""
    problem = load(path)
    torch.manual_seed(seed)
    model = problem.build_model()
    optimizer = problem.make_optimizer(model.parameters(), rates[0])
    losses: list[float] = []
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = rates[min(step, len(rates) - 1)]
        optimizer.zero_grad(set_to_none=True)
        loss = problem.loss(model, problem.train_batch(BATCH_SIZE, step))
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or (stop and blown_up(losses)):  # the worker's rule, checked every step
            break
        loss.backward()
        optimizer.step()
    return losses, optimizer_family(optimizer).family


def picks(name: str, seed: int, range_steps: int, probe_steps: int) -> tuple[float | None, float | None]:
    """(the range test's suggestion, the better probe's rate)."""
    torch.set_num_threads(1)
    path = str(HERE / "harnesses" / f"{name}.py")
    rates = lr_values(MIN_LR, MAX_LR, range_steps)
    losses, optimizer_family = train(path, seed, rates, range_steps, stop=True)
    classes = getattr(importlib.import_module(name), "num_classes", None)  # load() put its folder on sys.path
    evidence = lr_judge.range_evidence(rates, losses, range_steps, math.log(classes) if classes else None)
    if evidence is None:
        return None, None
    if not evidence.learned:
        guess = lr_judge.judge_inconclusive(evidence, "", optimizer_family).suggested_lr
        return guess, guess
    suggested = lr_judge.judge_range(evidence, optimizer_family).suggested_lr
    if probe_steps == 0:
        return suggested, suggested
    scored = []
    for rate in (suggested / 3**0.5, suggested * 3**0.5):
        run, _ = train(path, seed, [rate], probe_steps, stop=False)
        tail = run[-max(1, probe_steps // 10) :]
        scored.append((sum(tail) / len(tail) if all(map(math.isfinite, run)) else math.inf, rate))
    return suggested, min(scored)[1]


def main() -> None:
    range_steps, probe_steps = int(sys.argv[1]), int(sys.argv[2])
    reference = json.loads(REFERENCE_CACHE.read_text())
    cases = [(name, seed) for name in PROBLEMS + HELD_OUT + ISSUE_SHAPED for seed in SEEDS]
    with ProcessPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(picks, *zip(*cases), [range_steps] * len(cases), [probe_steps] * len(cases)))
    best = [reference[name]["seeds"][str(seed)]["best_lr"] for name, seed in cases]
    alone = sum(hit(s, b) for (s, _), b in zip(found, best))
    probed = sum(hit(p, b) for (_, p), b in zip(found, best))
    print(
        f"range test of {range_steps} steps: {alone}/{len(cases)} within 3x; "
        f"with two {probe_steps}-step probes: {probed}/{len(cases)}"
    )


if __name__ == "__main__":
    main()
