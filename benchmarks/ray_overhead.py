"""Ray's overhead: one 6-seed training run on the local executor and on a local Ray instance
with the same 2 CPUs, side by side (alternating), through stdio servers like a client's.

    .venv/bin/python benchmarks/ray_overhead.py     # needs the ray extra; about a minute on 2 cores
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import anyio
from stdio_server import call, stdio_server

HERE = Path(__file__).resolve().parent
RUN = {"harness": "small_mlp.py", "steps": 1500, "lr": 1e-3, "batch_size": 64, "seeds": [0, 1, 2, 3, 4, 5]}
TARGET = 1.3


async def timed_run(server) -> float:
    started = time.perf_counter()
    result, _ = await call(server, "start_training", RUN)
    run_id = result["details"]["run_id"]
    while True:
        status, _ = await call(server, "training_status", {"run_id": run_id, "wait_s": 30})
        if status["details"]["status"] not in ("queued", "running"):
            assert status["details"]["status"] == "completed", status["summary"]
            return time.perf_counter() - started


async def ray_figures(root: Path, reps: int = 2) -> tuple[float, float]:
    """Fastest of `reps` wall times of the same run on each executor (local, ray)."""
    times: dict[str, list[float]] = {"local": [], "ray": []}
    async with stdio_server(root) as local, stdio_server(root, "--executor", "ray") as ray:
        for server in (local, ray):
            await timed_run(server)  # warm-up: zygote, Ray workers
        for _ in range(reps):
            for name, server in (("local", local), ("ray", ray)):
                times[name].append(await timed_run(server))
    return min(times["local"]), min(times["ray"])


async def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        shutil.copytree(HERE / "harnesses", root, dirs_exist_ok=True)
        local_s, ray_s = await ray_figures(root)
    ratio = ray_s / local_s
    print(f"6 seeds x {RUN['steps']} steps: local executor {local_s:.1f} s, Ray (local instance) {ray_s:.1f} s")
    print(f"{'PASS' if ratio <= TARGET else 'FAIL'}  Ray executor overhead: {ratio:.2f}x  (target <= {TARGET}x)")
    sys.exit(0 if ratio <= TARGET else 1)


if __name__ == "__main__":
    anyio.run(main)
