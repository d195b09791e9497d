"""Two grid lr_sweeps at once against the same two one after the other (issue 17).

With `--max-workers 2` on a 2-core machine, each grid already spreads its rates over both
workers. Two agents (or one agent's two calls) sweeping at the same time must then share
them: the pair may take no longer than the two sweeps run one after the other, since the
cores do the same work either way. What could make it slower: each sweep splitting its grid
as if it had the workers to itself, oversubscribed threads, or a sweep holding a worker idle
while it waits for the other's chunks.

Through the console script over stdio (benchmarks/stdio_server.py), as benchmarks/run.py
measures: one server, `--max-workers 2`, the default thread budget (cores // workers). Each
repeat runs the pair both ways, interleaved (which way first alternates), so that outside load
hits both; the fastest of each counts, medians are printed too.

    .venv/bin/python benchmarks/concurrent_sweeps.py              # 3 repeats, about 2 minutes on 2 cores
    .venv/bin/python benchmarks/concurrent_sweeps.py --repeats 5 --steps 100

Prints the seconds of each way and their ratio with PASS/FAIL (target: concurrent <= 1.00x
sequential). Exits 1 on FAIL.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from stdio_server import call, stdio_server

HERE = Path(__file__).resolve().parent
TARGET = 1.0
HARNESS = "lr_tiny_transformer_adam.py"  # the harness of benchmarks/run.py's grid figure


def sweep_args(steps: int, rates: int) -> dict:
    return {
        "harness": HARNESS,
        "mode": "grid",
        "num_lrs": rates,
        "steps": steps,
        "batch_size": 32,
        "min_lr": 1e-4,
        "max_lr": 1e-1,
    }


async def checked_call(server, args: dict) -> None:
    result, _ = await call(server, "lr_sweep", args)
    points = (result.get("details") or {}).get("points") or []
    assert len(points) == args["num_lrs"], result["summary"]


async def sequential(server, args: dict) -> float:
    started = time.perf_counter()
    await checked_call(server, args)
    await checked_call(server, args)
    return time.perf_counter() - started


async def concurrent(server, args: dict) -> float:
    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        group.start_soon(checked_call, server, args)
        group.start_soon(checked_call, server, args)
    return time.perf_counter() - started


async def main(options: argparse.Namespace) -> int:
    args = sweep_args(options.steps, options.rates)
    times: dict[str, list[float]] = {"sequential": [], "concurrent": []}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        shutil.copytree(HERE / "harnesses", root, dirs_exist_ok=True)
        print(
            f"machine: {os.cpu_count()} CPU core(s); --max-workers 2; two grid sweeps of {options.rates} rates x "
            f"{options.steps} steps ({HARNESS}), {options.repeats} repeats",
            flush=True,
        )
        async with stdio_server(root, "--max-workers", "2") as server:
            await call(server, "gradient_check", {"harness": "small_mlp.py"})  # untimed: the zygote's start
            await checked_call(server, args)  # untimed: the first sweep's warm-up
            for repeat in range(options.repeats):
                order = ("sequential", "concurrent") if repeat % 2 == 0 else ("concurrent", "sequential")
                for way in order:
                    seconds = await (sequential if way == "sequential" else concurrent)(server, args)
                    times[way].append(seconds)
                    print(f"  repeat {repeat + 1}: {way:<10} {seconds:6.2f} s", flush=True)
    best = {way: min(values) for way, values in times.items()}
    ratio = best["concurrent"] / best["sequential"]
    print(
        f"fastest: sequential {best['sequential']:.2f} s, concurrent {best['concurrent']:.2f} s; medians "
        f"{statistics.median(times['sequential']):.2f} s and {statistics.median(times['concurrent']):.2f} s",
        flush=True,
    )
    passed = ratio <= TARGET
    print(
        f"{'PASS' if passed else 'FAIL'}  two concurrent grid sweeps vs one after the other: {ratio:.2f}x "
        f"(target <= {TARGET:.2f}x)",
        flush=True,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="pairs of each way, interleaved (the fastest counts)")
    parser.add_argument("--steps", type=int, default=150, help="training steps per rate")
    parser.add_argument("--rates", type=int, default=8, help="rates per grid")
    sys.exit(anyio.run(main, parser.parse_args()))
