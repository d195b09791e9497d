"""What does check_dependencies cost in causal mode? (issue 17)

Side by side in one run, on a nanoGPT-shaped language model (8 layers, 6 heads, width 384,
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
import statistics
import sys
import tempfile
from pathlib import Path

import anyio

from stdio_server import call, stdio_server

HARNESS = '''
import torch
from torch import nn
from torch.nn import functional as F

VOCAB, LAYERS, HEADS, WIDTH, T = 65, {layers}, {heads}, {width}, {T}
num_classes = VOCAB


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.c_attn, self.c_proj = nn.Linear(WIDTH, 3 * WIDTH), nn.Linear(WIDTH, WIDTH)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, 4 * WIDTH), nn.GELU(), nn.Linear(4 * WIDTH, WIDTH))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(VOCAB, WIDTH), nn.Embedding(T, WIDTH)
        self.h = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f, self.lm_head = nn.LayerNorm(WIDTH), nn.Linear(WIDTH, VOCAB, bias=False)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def build_model():
    return GPT()


def get_batch(batch_size, split="train"):
    g = torch.Generator().manual_seed({{"train": 0, "test": 1}}[split])
    tokens = torch.randint(0, VOCAB, (batch_size, T + 1), generator=g)
    return tokens[:, :-1], tokens[:, 1:]
'''

FULL = {"layers": 8, "heads": 6, "width": 384}
SMALL = {"layers": 2, "heads": 4, "width": 128}
CALLS = {
    "gradient_check": ("gradient_check", {}),
    "causal default": ("check_dependencies", {"mode": "causal"}),
    "causal exhaustive": ("check_dependencies", {"mode": "causal", "exhaustive": True}),
}
TARGETS = {"causal default": 4.0, "causal exhaustive": 25.0}


async def measure(root: Path, name: str, repeats: int) -> dict[str, tuple[float, dict]]:
    """Median time of each call, and the last result's details (its cost)."""
    out = {}
    async with stdio_server(root, "--timeout-s", "3600", "--max-workers", "1") as server:
        await call(server, "gradient_check", {"harness": name, "batch_size": 2})  # warm-up: the worker's first start
        for label, (tool, args) in CALLS.items():
            times, result = [], None
            for _ in range(repeats):
                result, _ = await call(server, tool, {"harness": name, **args})
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
        for T in lengths:
            name = f"gpt_T{T}.py"
            (root / name).write_text(HARNESS.format(T=T, **shape))
            params = 12 * shape["layers"] * shape["width"] ** 2
            print(f"\nnanoGPT-shaped LM, {shape}, T={T}, ~{params / 1e6:.1f}M parameters in the blocks")
            results = await measure(root, name, repeats)
            base = results["gradient_check"][0]
            for label, (seconds, details) in results.items():
                cost = details.get("cost", {})
                ratio = seconds / base
                target = TARGETS.get(label)
                verdict = "" if target is None else f"target <= {target:g}x: {'PASS' if ratio <= target else 'FAIL'}"
                failed |= target is not None and ratio > target
                passes = "1 fwd + 1 bwd, batch 32"
                if cost:
                    passes = f"{cost['forward_passes']} fwd, {cost['cotangents']} cotangents in {cost['backward_calls']} backward calls, batch 4"
                print(f"  {label:<18} {seconds:8.2f} s  {ratio:6.2f}x  ({passes})  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a 2-layer width-128 model at T=64: a quick run")
    parser.add_argument("--repeats", type=int, default=1, help="measured calls per tool (median)")
    arguments = parser.parse_args()
    sys.exit(anyio.run(main, arguments.small, arguments.repeats))
