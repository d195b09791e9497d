"""Train-mode versus eval-mode bugs seen on a training run: BatchNorm running statistics that
never move, and a loss that is far lower in train mode than in eval mode on the same batch.

Both show up only once the model has trained, so training runs call them at each evaluation
and at the end. Whatever they change on the model (mode, buffers, RNG) is restored.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..wire.findings import ERROR, WARNING, finding
from .harness import Harness

GAP_RATIO = 2.0  # eval-mode loss over train-mode loss on the same batch: beyond it, the modes disagree
GAP_MIN = 0.05  # and by at least this much: tiny losses differ by large ratios for no reason
RUNNING_WORDS = ("running", "moving")  # running_mean, running_var, moving_average: statistics kept in training


def statistics_buffers(model: nn.Module) -> dict[str, torch.Tensor]:
    """Copies of the float buffers that training in train mode should update: those of norm layers
    with running statistics, and any buffer named running_* / moving_* (a from-scratch BatchNorm).
    Constant buffers (positional tables, masks) are left out: they never change by design."""
    norm_layers = {name for name, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._NormBase)}
    found = {}
    for name, buffer in model.named_buffers():
        owner, _, leaf = name.rpartition(".")
        if buffer.is_floating_point() and (owner in norm_layers or any(w in leaf for w in RUNNING_WORDS)):
            found[name] = buffer.detach().clone()
    return found


def buffers_not_updated(
    model: nn.Module, before: dict[str, torch.Tensor], steps: int, seed: int
) -> dict[str, Any] | None:
    """buffers_not_updated when running statistics are exactly as they were before `steps` train-mode steps."""
    current = dict(model.named_buffers())
    frozen = [name for name, old in before.items() if name in current and torch.equal(current[name], old)]
    if not frozen or steps == 0:
        return None
    return finding(
        "buffers_not_updated",
        ERROR if len(frozen) == len(before) else WARNING,
        f"{len(frozen)} of {len(before)} running-statistics buffer(s) never changed in {steps} train-mode steps: "
        f"{', '.join(frozen[:4])} (seed {seed})",
        where=frozen[0],
        evidence={"unchanged": frozen[:20], "tracked": len(before), "steps": steps},
        suggestion="The running mean/var are never written: a from-scratch BatchNorm that computes the new "
        "statistics but does not update the buffer in place (self.running_mean.mul_(1 - m).add_(m * mean) under "
        "no_grad), momentum 0, or track_running_stats=False. Eval mode then normalises with the initial 0/1.",
    )


def _restoring(model: nn.Module):
    """Snapshot of buffers and mode, and a function putting them back."""
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    modes = {name: m.training for name, m in model.named_modules()}

    def restore() -> None:
        with torch.no_grad():
            for name, b in model.named_buffers():
                b.copy_(buffers[name])
        for name, m in model.named_modules():
            m.training = modes[name]

    return restore


@torch.no_grad()
def mode_losses(harness: Harness, model: nn.Module, batch: Any) -> tuple[float, float]:
    """(train-mode loss, eval-mode loss) on the same batch, leaving model and RNG as they were."""
    restore = _restoring(model)
    try:
        with torch.random.fork_rng(devices=[]):
            model.train()
            train_loss = float(harness.loss(model, batch))
            model.eval()
            eval_loss = float(harness.loss(model, batch))
    finally:
        restore()
    return train_loss, eval_loss


def train_eval_gap(train_loss: float, eval_loss: float, step: int, seed: int) -> dict[str, Any] | None:
    """train_eval_gap when the eval-mode loss is far above the train-mode loss on the same batch."""
    if not (train_loss > 0 and eval_loss > GAP_RATIO * train_loss and eval_loss - train_loss > GAP_MIN):
        return None  # also quiet for NaN: non_finite_loss speaks for that
    return finding(
        "train_eval_gap",
        ERROR,
        f"on the same training batch the loss is {train_loss:.4g} in train mode but {eval_loss:.4g} in eval mode "
        f"({eval_loss / train_loss:.1f}x) at step {step} (seed {seed})",
        where=f"seed {seed}",
        evidence={"train_mode_loss": train_loss, "eval_mode_loss": eval_loss, "step": step},
        suggestion="Layers behave differently in eval mode: BatchNorm running statistics never updated (see "
        "buffers_not_updated) or a wrong momentum, dropout scaled at eval instead of in training, or a module "
        "that checks self.training backwards. Evaluate in eval mode only after fixing it.",
    )
