"""The peer: PyTorch Lightning's Tuner.lr_find on an LR-finder problem, in Lightning's own venv.

Usage: python peer_lightning.py HARNESS MIN_LR MAX_LR STEPS BATCH_SIZE THREADS SEED [SCRATCH_DIR]
Prints one JSON line: Lightning's suggestion and the wall time of the LR finding itself
(Trainer and Tuner construction, lr_find, suggestion), timed inside this process like the
tool's call is timed around its MCP request. Same model, seed, batches (a fresh batch per
step, as the harness's get_train_batch gives them), optimizer and number of steps as lr_sweep.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings

import lightning.pytorch as pl
import torch
from harness_loader import Problem, load
from lightning.pytorch.tuner import Tuner
from torch.utils.data import DataLoader, IterableDataset


class Batches(IterableDataset):
    def __init__(self, problem: Problem, batch_size: int, steps: int):
        self.problem, self.batch_size, self.steps = problem, batch_size, steps

    def __iter__(self):
        return (self.problem.train_batch(self.batch_size, step) for step in range(self.steps))


class Module(pl.LightningModule):
    def __init__(self, problem: Problem, lr: float):
        super().__init__()
        self.problem, self.lr = problem, lr
        self.model = problem.build_model()

    def training_step(self, batch, batch_idx):
        return self.problem.loss(self.model, batch)

    def configure_optimizers(self):
        return self.problem.make_optimizer(self.parameters(), self.lr)


def main() -> None:
    path, min_lr, max_lr = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    steps, batch_size, threads, seed = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
    torch.set_num_threads(threads)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning").setLevel(logging.ERROR)
    problem = load(path)
    torch.manual_seed(seed)  # lr_sweep's `seed` seeds torch before build_model likewise
    module = Module(problem, min_lr)
    loader = DataLoader(Batches(problem, batch_size, steps), batch_size=None)
    started = time.perf_counter()
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=sys.argv[8] if len(sys.argv) > 8 else None,
    )
    finder = Tuner(trainer).lr_find(module, train_dataloaders=loader, min_lr=min_lr, max_lr=max_lr, num_training=steps)
    suggestion = finder.suggestion()
    elapsed = time.perf_counter() - started
    print(json.dumps({"suggested_lr": suggestion, "find_s": elapsed, "steps_run": len(finder.results["lr"])}))


if __name__ == "__main__":
    main()
