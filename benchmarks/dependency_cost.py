"""What does check_dependencies cost in causal mode? (issue 17)

Side by side in one run, on benchmarks/harnesses/nanogpt.py (8 layers, 6 heads, width 384,
about 14M parameters; causal attention through F.scaled_dot_product_attention like nanoGPT)
at T=128 and T=512, every call through the console script over stdio:

* gradient_check at its default batch (32): one forward and one full backward pass;
* check_dependencies mode="causal" at its default (4 cuts, batch 4);
* check_dependencies mode="causal", exhaustive=true (every position, batched backward passes).

The time compared is each call's run.duration_s: the server and its worker are warm (one
small call first), and the model is built and the batch drawn inside every call, as a user
pays. At --small that fixed cost dominates; at full size the passes do. Targets: default <= 4x one
gradient_check, exhaustive <= 25x.

    .venv/bin/python benchmarks/dependency_cost.py           # full size: several minutes of CPU
    .venv/bin/python benchmarks/dependency_cost.py --small   # 2 layers, width 128, T=64: seconds
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import anyio
from stdio_server import call, stdio_server

HERE = Path(__file__).resolve().parent

FULL = {"layers": 8, "heads": 6, "width": 384}
SMALL = {"layers": 2, "heads": 4, "width": 128}
CALLS = {
    "gradient_check": ("gradient_check", {}),
    "causal default": ("check_dependencies", {"mode": "causal"}),
    "causal exhaustive": ("check_dependencies", {"mode": "causal", "exhaustive": True}),
}
TARGETS = {"causal default": 4.0, "causal exhaustive": 25.0}


async def measure(root: Path, model: dict, repeats: int) -> dict[str, tuple[float, dict]]:
    """Median time of each call, and the last result's details (its cost)."""
    out, harness = {}, {"harness": "nanogpt.py", "model_kwargs": model}
    async with stdio_server(root, "--timeout-s", "3600", "--max-workers", "1") as server:
        await call(server, "gradient_check", {**harness, "batch_size": 2})  # warm-up: the worker's first start
        for label, (tool, args) in CALLS.items():
            times, result = [], None
            for _ in range(repeats):
                result, _ = await call(server, tool, {**harness, **args})
                assert result["status"] == "pass", result["summary"]
                times.append(result["run"]["duration_s"])
            out[label] = (statistics.median(times), result["details"])
    return out


async def main(small: bool, repeats: int) -> int:
    shape = SMALL if small else FULL
    lengths = [64] if small else [128, 512]
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copy(HERE / "harnesses" / "nanogpt.py", root)
        for T in lengths:
            params = 12 * shape["layers"] * shape["width"] ** 2
            print(f"\nnanoGPT-shaped LM, {shape}, T={T}, ~{params / 1e6:.1f}M parameters in the blocks")
            results = await measure(root, {**shape, "block_size": T}, repeats)
            base = results["gradient_check"][0]
            for label, (seconds, details) in results.items():
                cost = details.get("cost", {})
                ratio = seconds / base
                target = TARGETS.get(label)
                verdict = "" if target is None else f"target <= {target:g}x: {'PASS' if ratio <= target else 'FAIL'}"
                failed |= target is not None and ratio > target
                passes = "1 fwd + 1 bwd, batch 32"
                if cost:
                    passes = (
                        f"{cost['forward_passes']} fwd, {cost['cotangents']} cotangents in "
                        f"{cost['backward_calls']} backward calls, batch 4"
                    )
                print(f"  {label:<18} {seconds:8.2f} s  {ratio:6.2f}x  ({passes})  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a 2-layer width-128 model at T=64: a quick run")
    parser.add_argument("--repeats", type=int, default=1, help="measured calls per tool (median)")
    arguments = parser.parse_args()
    sys.exit(anyio.run(main, arguments.small, arguments.repeats))
