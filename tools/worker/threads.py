"""A job's torch thread budget: the threads the machine can give it now, and its model can use.

Intra-op threads pay only when each one has a core of its own: an OpenMP op ends at a barrier,
so one thread that another process pushes off its core stalls the whole op (on 2 cores with
two CPU-bound processes beside, 2 threads ran a small model 3-80x slower than 1). So, unless
--threads-per-worker pins the count:

* the server's ceiling (`usable_cores()`): the cores this process may run on (affinity) and
  the CPU quota of its cgroup allow, shared among --max-workers;
* at the job's start, no more threads than cores idle right now (`idle_cores()`, /proc/stat
  over a few tens of ms): a busy machine gets one thread per job;
* in the first steps of training (`Trial`), the faster of that count and one thread, timed on
  the job's own steps (no extra work): a small model cannot use threads, a wide one can.

The zygote runs with OMP_WAIT_POLICY=passive (runner.py): threads that spin between ops steal
the cores other processes need. Standard library only: the server imports `usable_cores`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import TypeVar

from . import cgroups

T = TypeVar("T")

IDLE_SAMPLE_S = 0.03  # three ticks of /proc/stat (100 Hz): enough to see a core that others keep busy
IDLE_FREE = 0.75  # a core idle this much of the sample counts as free: others' bursts leave it often
TRIAL_STEPS = 3  # timed steps per candidate; the first step of each is not timed (warm-up, thread start)
MARGIN = 0.9  # more threads are kept only when their steps take under this fraction of one thread's


def cgroup_cpu_limit() -> float | None:
    """The tightest CPU quota (cpu.max) of our cgroup and its parents, in cores; None when unlimited."""
    path, limit = cgroups.own_dir(), None
    while path and os.path.isfile(os.path.join(path, "cpu.max")):
        try:
            with open(os.path.join(path, "cpu.max")) as f:
                quota, period = f.read().split()
            if quota != "max":
                limit = min(limit or math.inf, int(quota) / int(period))
        except (OSError, ValueError):
            pass
        path = os.path.dirname(path)
    return limit


def usable_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by its cgroup's CPU quota."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    return max(1, min(cores, math.floor(limit)) if limit is not None else cores)


def _cpu_times() -> dict[str, tuple[int, int]]:
    """(idle, total) jiffies of each cpuN this process may run on, from /proc/stat."""
    allowed = {f"cpu{n}" for n in os.sched_getaffinity(0)}
    times = {}
    with open("/proc/stat") as f:
        for line in f:
            name, *values = line.split()
            if name in allowed:
                ticks = [int(v) for v in values[:8]]
                times[name] = (ticks[3] + ticks[4], sum(ticks))  # idle + iowait
    return times


def idle_cores(sample_s: float = IDLE_SAMPLE_S) -> int | None:
    """Cores idle (most of) the last `sample_s`; None where /proc/stat cannot tell (not Linux)."""
    try:
        before = _cpu_times()
        time.sleep(sample_s)
        after = _cpu_times()
    except (OSError, ValueError, AttributeError):
        return None
    free = 0
    for name, (idle, total) in after.items():
        idle0, total0 = before.get(name, (idle, total))
        free += total > total0 and (idle - idle0) / (total - total0) >= IDLE_FREE
    return free


def start_threads(ceiling: int) -> int:
    """Threads for a job that starts now: its ceiling, cut to the cores idle at this moment."""
    free = idle_cores() if ceiling > 1 else None
    return max(1, min(ceiling, free if free is not None else ceiling))


class Trial:
    """Times a job's first training steps at its thread count, then at one thread, and keeps the
    faster. `step(run)` wraps each step; set_threads is torch.set_num_threads."""

    def __init__(self, threads: int, set_threads: Callable[[int], None]):
        self.candidates = [threads, 1] if threads > 1 else []  # none: nothing to choose between
        self.set_threads = set_threads
        self.times: dict[int, list[float]] = {n: [] for n in self.candidates}
        self.done = not self.candidates

    def step(self, run: Callable[[], T]) -> T:
        if self.done:
            return run()
        threads = next(n for n in self.candidates if len(self.times[n]) <= TRIAL_STEPS)
        self.set_threads(threads)
        started = time.perf_counter()
        result = run()
        self.times[threads].append(time.perf_counter() - started)
        if all(len(t) > TRIAL_STEPS for t in self.times.values()):
            self._choose()
        return result

    def _choose(self) -> None:
        many, one = (min(self.times[n][1:]) for n in self.candidates)  # [0]: warm-up; min: least disturbed
        self.set_threads(self.candidates[0] if many < MARGIN * one else 1)
        self.done = True
