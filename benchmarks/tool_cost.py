"""What does each tool cost, in forward+backward passes of the user's own model? (issue 17)

Side by side in one run, on benchmarks/harnesses/nanogpt.py (a nanoGPT-shaped causal LM sized
by model_kwargs) at about 1M, 14M and 50M parameters and T=128 and 512:

* the unit: one forward+backward of the model (default loss, zero_grad, backward) at the batch
  the tool uses, the fastest of 5 after a warm-up, timed in a bare loop in a fresh process with
  the worker's torch thread count (THREADS of benchmarks/run.py);
* each tool called through the console script over stdio (benchmarks/stdio_server.py) on the
  same harness and size; its time is the call's run.duration_s (the job from fork to answer:
  harness import and model build included, the round trip and plots not). One untimed call
  first starts the zygote. Each of --repeats repeats measures the units in a fresh process and
  then calls every diagnostic tool once; a tool's ratio is the median over repeats of its call
  over the unit measured just before (printed: the fastest call and unit, and each repeat's ratio).

Diagnostic tools must stay within 3x one forward+backward. Training-based tools
(run_overfit_test, lr_sweep, run_ablation) are compared with a bare loop of the same steps
(model built, Adam, the same batches, one read of the last loss), each in its own fresh
process like benchmarks/bare_loop.py: overhead within 1.10x.

Batches: the tool's default where it is small (inspect_model 2, check_dependencies 4), else
--batch (8): the defaults of 32-256 make a 50M model at T=512 cost minutes per pass on CPU.
Training: --steps (20) steps each; run_overfit_test on sizes=[batch] with target_loss=0 (it
never stops early: its own verdict is then usually "fail", which says nothing about cost),
lr_sweep mode="range" with num_lrs=steps, run_ablation with one variant (half the heads).

    .venv/bin/python benchmarks/tool_cost.py --small   # 1M at T=128 only: about two minutes
    .venv/bin/python benchmarks/tool_cost.py --sizes 1M 14M --repeats 5   # 35 minutes on 2 shared cores
    .venv/bin/python benchmarks/tool_cost.py           # 50M as well: hours on CPU
    .venv/bin/python benchmarks/tool_cost.py --sizes 50M --lengths 128 --skip-training   # diagnostics only

Prints one line per tool and size: seconds, ratio, PASS/FAIL. Exits 1 if any FAIL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from run import THREADS
from stdio_server import call, stdio_server

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "harnesses" / "nanogpt.py"
SIZES = {  # about 12 * layers * width^2 parameters in the blocks
    "1M": {"layers": 5, "heads": 4, "width": 128},
    "14M": {"layers": 8, "heads": 6, "width": 384},
    "50M": {"layers": 10, "heads": 10, "width": 640},
}
LENGTHS = (128, 512)
DIAGNOSTIC_TARGET, TRAINING_TARGET = 3.0, 1.10
PASS_REPEATS = 5  # timed forward+backward passes per batch size, after a warm-up: the fastest counts
# causal_attention with q = k = 0 attends uniformly: position t gets the mean of v[0..t].
KNOWN_CASE = {
    "args": [[[[[0.0, 0.0]] * 3]], [[[[0.0, 0.0]] * 3]], [[[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]]]],
    "expected": [[[[1.0, 2.0], [2.0, 3.0], [3.0, 4.0]]]],
}


def diagnostic_calls(batch: int) -> list[tuple[str, str, dict[str, Any], int]]:
    """(label, tool, arguments, batch of its unit) of each diagnostic tool."""
    return [
        ("inspect_data", "inspect_data", {"batch_size": batch}, batch),
        ("inspect_model", "inspect_model", {}, 2),
        ("check_initialization", "check_initialization", {"batch_size": batch}, batch),
        ("gradient_check", "gradient_check", {"batch_size": batch}, batch),
        ("check_dependencies batch", "check_dependencies", {"mode": "batch"}, 4),
        ("check_dependencies causal", "check_dependencies", {"mode": "causal"}, 4),
        ("check_dependencies position", "check_dependencies", {"mode": "position"}, 4),
        ("check_known_values", "check_known_values", {"function": "causal_attention", "cases": [KNOWN_CASE]}, batch),
    ]


TrainingCall = tuple[str, str, dict[str, Any], dict[str, Any]]


def training_calls(batch: int, steps: int, shape: dict[str, int]) -> list[TrainingCall]:
    """(label, tool, arguments, the bare loop doing the same training) of each training-based tool.
    The ablation's variant halves the heads: the same parameters and nearly the same work."""
    return [
        (
            "run_overfit_test",
            "run_overfit_test",
            {"sizes": [batch], "steps": steps, "target_loss": 0},
            {"batch": batch, "steps": steps, "fresh": False, "models": 1},
        ),
        (
            "lr_sweep range",
            "lr_sweep",
            {"mode": "range", "num_lrs": steps, "batch_size": batch},
            {"batch": batch, "steps": steps, "fresh": True, "models": 1},
        ),
        (
            "run_ablation",
            "run_ablation",
            {"variants": {"half_heads": {"heads": shape["heads"] // 2}}, "steps": steps, "batch_size": batch},
            {"batch": batch, "steps": steps, "fresh": True, "models": 2},
        ),
    ]


# ---- the bare side: a fresh process, as a user would write it -----------------------------------


def bare(harness: str, model_kwargs: dict, threads: int, batches: list[int], loop: dict | None) -> dict:
    """Seconds of one forward+backward per batch size, or of one training loop."""
    import torch
    from harness_loader import load

    torch.set_num_threads(threads)
    problem = load(harness)
    # As in bare_loop.py: torch's lazy first-use imports on a throwaway model (the worker has
    # them from its zygote), so that the model's own first passes stay in the timed part.
    warm = torch.nn.Linear(4, 2)
    torch.nn.functional.cross_entropy(warm(torch.randn(3, 4)), torch.tensor([0, 1, 0])).backward()
    torch.optim.Adam(warm.parameters()).step()
    if loop is not None:
        return {"loop_s": train_loop(problem, model_kwargs, **loop)}
    torch.manual_seed(0)
    model = problem.build_model(**model_kwargs)
    passes = {}
    for batch_size in batches:
        batch, times = problem.train_batch(batch_size, 0), []
        for _ in range(PASS_REPEATS + 1):  # the first is a warm-up for this shape
            started = time.perf_counter()
            model.zero_grad(set_to_none=True)
            problem.loss(model, batch).backward()
            times.append(time.perf_counter() - started)
        passes[batch_size] = min(times[1:])
    return {"pass_s": passes}


def train_loop(problem: Any, model_kwargs: dict, batch: int, steps: int, fresh: bool, models: int) -> float:
    """Like benchmarks/bare_loop.py: build, Adam, STEPS steps, one read of the last loss."""
    import torch

    started = time.perf_counter()
    for _ in range(models):
        torch.manual_seed(0)
        model = problem.build_model(**model_kwargs)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        fixed = problem.train_batch(batch, 0)
        for step in range(steps):
            optimizer.zero_grad(set_to_none=True)
            loss = problem.loss(model, problem.train_batch(batch, step) if fresh else fixed)
            loss.backward()
            optimizer.step()
        loss.item()
    return time.perf_counter() - started


def bare_process(harness: Path, model_kwargs: dict, batches: list[int] = (), loop: dict | None = None) -> dict:
    """bare() in a fresh process: each loop gets its own, as a user's script would."""
    spec = json.dumps({"harness": str(harness), "model_kwargs": model_kwargs, "batches": list(batches), "loop": loop})
    out = subprocess.run([sys.executable, __file__, "--bare", spec], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# ---- the tools ----------------------------------------------------------------------------------


def verdict(ratio: float, target: float) -> str:
    return f"target <= {target:g}x: {'PASS' if ratio <= target else 'FAIL'}"


@dataclass
class Setting:
    """One size of the model, as every call and every bare run of it sees it."""

    root: Path
    harness: str  # file name in root
    model_kwargs: dict[str, Any]
    batch: int
    steps: int
    repeats: int  # calls of each diagnostic tool
    train_repeats: int  # runs of each training-based tool and of its bare loop


def tool_args(setting: Setting, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    model = {} if tool == "inspect_data" else {"model_kwargs": setting.model_kwargs}  # inspect_data builds no model
    return {"harness": setting.harness, **model, **args}


async def diagnostics(server: Any, setting: Setting) -> list[bool]:
    """Each repeat measures the units in a fresh process, then calls every tool once, and takes each
    tool's ratio to the units just measured: on a loaded machine a burst of outside load then hits a
    repeat's unit and its calls alike, and the median over repeats drops the repeats it split."""
    calls = diagnostic_calls(setting.batch)
    batches = sorted({unit_batch for *_, unit_batch in calls})
    units: list[dict[str, float]] = []
    results: dict[str, list[dict]] = {label: [] for label, *_ in calls}
    for _ in range(setting.repeats):
        units.append(bare_process(setting.root / setting.harness, setting.model_kwargs, batches=batches)["pass_s"])
        for label, tool, args, _ in calls:
            results[label].append((await call(server, tool, tool_args(setting, tool, args)))[0])
    passed = []
    for label, _tool, _args, unit_batch in calls:
        seconds = [result["run"]["duration_s"] for result in results[label]]
        ratios = [taken / unit[str(unit_batch)] for taken, unit in zip(seconds, units)]
        ratio, fastest_unit = statistics.median(ratios), min(unit[str(unit_batch)] for unit in units)
        passed.append(ratio <= DIAGNOSTIC_TARGET)
        status = min(results[label], key=lambda r: r["run"]["duration_s"])["status"]
        print(
            f"  {label:<28} {min(seconds):7.2f} s {ratio:7.2f}x fwd+bwd at batch {unit_batch} ({fastest_unit:.3f} s; "
            f"repeats {' '.join(f'{r:.2f}' for r in ratios)})  [{status}]  {verdict(ratio, DIAGNOSTIC_TARGET)}",
            flush=True,
        )
    return passed


async def trainings(server: Any, setting: Setting, shape: dict[str, int]) -> list[bool]:
    passed = []
    for label, tool, args, loop in training_calls(setting.batch, setting.steps, shape):
        loops, results = [], []
        for _ in range(setting.train_repeats):  # interleaved, so that outside load hits both sides alike
            loops.append(bare_process(setting.root / setting.harness, setting.model_kwargs, loop=loop)["loop_s"])
            results.append((await call(server, tool, tool_args(setting, tool, args)))[0])
        loop_s, result = min(loops), min(results, key=lambda r: r["run"]["duration_s"])
        seconds = result["run"]["duration_s"]
        passed.append(seconds / loop_s <= TRAINING_TARGET)
        what = f"{loop['models']} x {loop['steps']} Adam steps at batch {loop['batch']}"
        print(
            f"  {label:<28} {seconds:7.2f} s {seconds / loop_s:7.2f}x bare loop of {what} ({loop_s:.2f} s)"
            f"  [{result['status']}]  {verdict(seconds / loop_s, TRAINING_TARGET)}",
            flush=True,
        )
    return passed


async def main(options: argparse.Namespace) -> int:
    sizes, lengths = (["1M"], [128]) if options.small else (options.sizes, options.lengths)
    steps = max(20, options.steps)  # lr_sweep's range test runs at least 20
    passed = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        source = HARNESS.read_text()
        for T in lengths:  # inspect_data builds no model: its batches follow the file's BLOCK_SIZE
            copy = source.replace("VOCAB, BLOCK_SIZE = 65, 128", f"VOCAB, BLOCK_SIZE = 65, {T}")
            assert copy != source or T == 128, "nanogpt.py's BLOCK_SIZE line changed"
            (root / f"nanogpt_T{T}.py").write_text(copy)
        print(
            f"torch threads per job and in the bare runs: {THREADS}; batch {options.batch} unless said; "
            f"{steps} training steps",
            flush=True,
        )
        async with stdio_server(root, "--timeout-s", "3600") as server:
            await call(server, "inspect_model", {"harness": f"nanogpt_T{lengths[0]}.py"})  # untimed: the zygote's start
            for size in sizes:
                for T in lengths:
                    shape = SIZES[size]
                    setting = Setting(
                        root,
                        f"nanogpt_T{T}.py",
                        {**shape, "block_size": T},
                        options.batch,
                        steps,
                        options.repeats,
                        options.train_repeats,
                    )
                    print(f"\n{size}: {shape}, T={T}", flush=True)
                    passed += await diagnostics(server, setting)
                    passed += [] if options.skip_training else await trainings(server, setting, shape)
    print(f"\n{sum(passed)} passed, {len(passed) - sum(passed)} failed", flush=True)
    return 0 if all(passed) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="1M parameters at T=128 only: a quick run")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--batch", type=int, default=8, help="batch of the tools whose default is larger")
    parser.add_argument("--steps", type=int, default=20, help="steps of each training-based tool (at least 20)")
    parser.add_argument("--repeats", type=int, default=3, help="calls of each diagnostic tool (the fastest counts)")
    parser.add_argument("--train-repeats", type=int, default=1, help="runs of each training tool and of its bare loop")
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS), help="sequence lengths T")
    parser.add_argument("--skip-training", action="store_true", help="the diagnostic tools only (no training loops)")
    parser.add_argument("--bare", help=argparse.SUPPRESS)  # internal: the bare side, in its own process
    options = parser.parse_args()
    if options.bare:
        spec = json.loads(options.bare)
        print(json.dumps(bare(spec["harness"], spec["model_kwargs"], THREADS, spec["batches"], spec["loop"])))
        sys.exit(0)
    sys.exit(anyio.run(main, options))
