"""What do check_dependencies' mechanism probes cost at its defaults? (issue 25: <= 3x one forward+backward)

Side by side in one process, on the clean harness of each mechanism example (examples/diffusion, dqn, mlm; the two
MLPs also widened to 1024 through model_kwargs) at check_dependencies' default batch (4), model in eval mode as the
check runs it:

* one forward and backward pass of the harness's loss (the unit the issue's budget is counted in);
* the mechanism probes alone (dependencies.mechanism_probes: conditions, padding, bidirectional, positions,
  supervised positions; on a transition batch the bootstrap target and the batch keys), on the trace the
  batch check already made;
* the whole check_dependencies job at its defaults (model build and batch included), for context.

Each time is the median of REPEATS runs after one warm-up. The ratio probes / forward+backward must stay <= 3.

    .venv/bin/python benchmarks/mechanism_cost.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import torch

from implement_paper.tools.check_dependencies import check as dep
from implement_paper.tools.check_dependencies.forward import Batch
from implement_paper.tools.check_dependencies.roles import roles_of
from implement_paper.tools.check_dependencies.tool import DependencyArgs
from implement_paper.tools.wire.messages import JobRequest
from implement_paper.tools.worker.job import JobContext

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# (family, harness, model_kwargs): each example at its size, and the two MLPs widened, where the passes outweigh
# the probes' fixed Python cost (hooks, a TorchFunctionMode) that dominates a 0.3 ms forward+backward
CASES = [
    ("diffusion", "ddpm.py", {}),
    ("dqn", "dqn.py", {}),
    ("mlm", "bert.py", {}),
    ("diffusion", "ddpm.py", {"hidden": 1024}),
    ("dqn", "dqn.py", {"hidden": 1024}),
]
REPEATS, TARGET = 20, 3.0


def _median_s(fn) -> float:
    fn()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _context(folder: Path, harness: str, kwargs: dict, result_fd: int) -> JobContext:
    args = DependencyArgs(harness=harness).check_args()
    request = JobRequest(
        check="check_dependencies",
        root=str(folder),
        harness=str(folder / harness),
        device="cpu",
        args=args,
        model_kwargs=kwargs,
    )
    return JobContext(request, result_fd)


def measure(name: str, harness: str, kwargs: dict, result_fd: int) -> tuple[float, float, float]:
    """(forward+backward s, probes s, whole check s) on examples/<name>/<harness>."""
    folder = EXAMPLES / name
    sys.path.insert(0, str(folder))
    os.chdir(folder)
    ctx = _context(folder, harness, kwargs, result_fd)
    model = ctx.build_model().eval()
    value = ctx.batch(ctx.args["batch_size"], "train")
    batch = Batch(value, dep._input_key(value, None, guess=True))
    roles = roles_of(ctx, value, batch.key)

    def probes() -> float:
        with torch.enable_grad():
            trace = dep._trace(ctx, model, batch)  # the batch check's forward: not the probes' cost
            started = time.perf_counter()
            dep.mechanism_probes(ctx, model, batch, trace, roles, dep.THRESHOLD)
            return time.perf_counter() - started

    forward_backward = _median_s(lambda: ctx.harness.loss(model, value).backward())
    probes()
    probe_s = statistics.median(probes() for _ in range(REPEATS))
    whole = _median_s(lambda: dep.run(ctx))
    sys.path.remove(str(folder))
    return forward_backward, probe_s, whole


def main() -> int:
    torch.set_num_threads(1)
    result_fd = os.open(os.devnull, os.O_WRONLY)  # the job's progress lines go nowhere
    failed = False
    print(f"| family | harness | forward+backward | probes | ratio (target <= {TARGET:g}) | whole check | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, harness, kwargs in CASES:
        base, probe_s, whole = measure(name, harness, kwargs, result_fd)
        failed |= not kwargs and probe_s / base > TARGET
        print(
            f"| {name} | {harness} {kwargs or ''} | {base * 1e3:.2f} ms | {probe_s * 1e3:.2f} ms | "
            f"{probe_s / base:.2f}x | "
            f"{whole * 1e3:.1f} ms | {whole / base:.1f}x |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
