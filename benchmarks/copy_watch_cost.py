"""What does watching frozen copies cost run_overfit_test? (issue 25, item 1)

Side by side in one process, on a DDPM-sized denoiser MLP with an EMA copy (4 layers of width 1024, about
4.2M parameters in each of `net` and `ema`, batch 256), per training step:

* one forward and backward pass of `net` (the unit the issue's budget is counted in: <= 3x);
* the watch's after_step in its worst case: the copy equals its source after every step (EMA decay 0), so
  every step compares all of its parameters;
* after_step once the copy lagged (every correct EMA or hard sync after its first step): no comparison;
* the gradient hooks on a copy left trainable (a forward and backward with hooks, less one without);
* finding the copies (once per size, at build).

    .venv/bin/python benchmarks/copy_watch_cost.py
"""

from __future__ import annotations

import copy
import statistics
import time

import torch
from torch import nn

from implement_paper.tools.run_overfit_test.copy_watch import CopyWatch
from implement_paper.tools.worker.frozen_copies import find_copies

WIDTH, LAYERS, BATCH, REPEATS = 1024, 4, 256, 20


class WithEMA(nn.Module):
    def __init__(self, frozen: bool):
        super().__init__()
        self.net = nn.Sequential(*[m for _ in range(LAYERS) for m in (nn.Linear(WIDTH, WIDTH), nn.SiLU())])
        self.ema = copy.deepcopy(self.net).requires_grad_(not frozen)


def _median_s(fn) -> float:
    fn()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    torch.manual_seed(0)
    x = torch.randn(BATCH, WIDTH)
    model = WithEMA(frozen=True)
    optimizer = torch.optim.Adam(model.net.parameters())
    forward_backward = _median_s(lambda: model.net(x).square().mean().backward())
    found = _median_s(lambda: find_copies(model))
    watch = CopyWatch(model, optimizer, find_copies(model))
    worst = _median_s(lambda: (watch.always_equal.update(ema=True), watch.after_step(0)))  # compares every step
    lagged = _median_s(lambda: (watch.always_equal.update(ema=False), watch.after_step(0)))
    watch.close(BATCH)
    trainable = WithEMA(frozen=False)
    loss = lambda: (trainable.net(x).square().mean() + trainable.ema(x).square().mean()).backward()  # noqa: E731
    without_hooks = _median_s(loss)
    hooked = CopyWatch(trainable, torch.optim.Adam(trainable.parameters()), find_copies(trainable))
    with_hooks = _median_s(loss)
    hooked.close(BATCH)
    print(
        f"forward+backward of net: {forward_backward * 1e3:.1f} ms "
        f"({sum(p.numel() for p in model.net.parameters()):,} parameters, batch {BATCH})"
    )
    for label, seconds in [
        ("after_step, copy equal to its source (worst case)", worst),
        ("after_step, copy lagged", lagged),
        ("gradient hooks on a trainable copy", max(with_hooks - without_hooks, 0.0)),
        ("find_copies, once per size", found),
    ]:
        print(f"{label}: {seconds * 1e3:.2f} ms = {seconds / forward_backward:.3f}x one forward+backward")


if __name__ == "__main__":
    main()
