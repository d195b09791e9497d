"""What train_step does to a model's frozen copies, watched during a training run that happens anyway.

A target network, an EMA copy or a teacher changes only by its sync: a hard copy every K steps or a
Polyak/EMA update. So during training: no gradient reaches it (the bootstrap target is detached), the
optimizer never steps it, it changes at some point (it is synced), and it is not its source after every
step (it lags). Each step costs one hook call per copy tensor that requires grad and, while the copy has
not yet lagged, one comparison with its source: far below a forward and backward pass.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..wire.findings import ERROR, INFO, WARNING, finding
from ..worker.frozen_copies import Copy
from .details import CopyTrace

# A hard sync every K steps looks like no sync at all in a run shorter than K: "never synced" is a warning
# only over a run this long (CleanRL's DQN syncs every 500 steps), an info below it.
SYNC_JUDGED_STEPS = 500


def _params(model: nn.Module, name: str) -> list[torch.Tensor]:
    return list(model.get_submodule(name).parameters())  # re-read: a sync may replace the module


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(p.detach(), q.detach()) for p, q in zip(a, b))


class CopyWatch:
    """Hooks on the copies' parameters for one run; `after_step` once per train_step; `close` for the traces."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, copies: list[Copy]):
        self.model, self.optimizer, self.copies = model, optimizer, copies
        self.steps = 0
        self.start = {c.copy: [p.detach().clone() for p in _params(model, c.copy)] for c in copies}
        self.source_start = {c.copy: [p.detach().clone() for p in _params(model, c.source)] for c in copies}
        self.grad: dict[str, Any] = {c.copy: 0.0 for c in copies}  # a device tensor once a gradient arrives
        self.always_equal = {c.copy: True for c in copies}
        self.hooks = [
            p.register_hook(self._on_grad(c.copy)) for c in copies for p in _params(model, c.copy) if p.requires_grad
        ]

    def _on_grad(self, name: str):
        def record(grad: torch.Tensor) -> None:
            self.grad[name] = self.grad[name] + grad.detach().abs().sum()  # stays on the device: no sync per step

        return record

    def after_step(self, step: int) -> None:
        self.steps += 1
        for c in self.copies:
            if self.always_equal[c.copy]:
                self.always_equal[c.copy] = _same(_params(self.model, c.copy), _params(self.model, c.source))

    def waiting_for_sync(self) -> bool:
        """A copy made as a copy that has not changed yet while its source has: a sync may still be due."""
        return any(
            c.equal_at_build
            and _same(_params(self.model, c.copy), self.start[c.copy])
            and not _same(_params(self.model, c.source), self.source_start[c.copy])
            for c in self.copies
        )

    def _stepped(self, c: Copy) -> bool:
        held = {id(p) for group in self.optimizer.param_groups for p in group["params"]}
        mine = [p for p in _params(self.model, c.copy) if id(p) in held]
        return any(self.optimizer.state.get(p) for p in mine) or (bool(mine) and float(self.grad[c.copy]) > 0)

    def close(self, size: int) -> list[CopyTrace]:
        for hook in self.hooks:
            hook.remove()
        return [
            CopyTrace(
                copy=c.copy,
                source=c.source,
                size=size,
                steps=self.steps,
                grad_abs_sum=float(self.grad[c.copy]),
                optimizer_stepped=self._stepped(c),
                changed=not _same(_params(self.model, c.copy), self.start[c.copy]),
                source_changed=not _same(_params(self.model, c.source), self.source_start[c.copy]),
                equal_to_source_every_step=self.steps > 1 and self.always_equal[c.copy],
                equal_at_build=c.equal_at_build,
            )
            for c in self.copies
        ]


def _gradient(t: CopyTrace) -> dict[str, Any]:
    return finding(
        "grad_reaches_copy",
        ERROR,
        f"a gradient reaches the copy `{t.copy}` (it mirrors `{t.source}`) in train_step: sum |grad| "
        f"{t.grad_abs_sum:.3g} over {t.steps} steps. Its output is a target (a bootstrapped TD target, an EMA or "
        "teacher prediction) and must carry no graph",
        where=t.copy,
        evidence={"size": t.size, "steps": t.steps, "grad_abs_sum": t.grad_abs_sum},
        suggestion=f"Compute the target under torch.no_grad() (or .detach() it), keep every loss term off "
        f"`{t.copy}`, and freeze it: self.{t.copy}.requires_grad_(False) after the deepcopy.",
    )


def _optimizer(t: CopyTrace) -> dict[str, Any]:
    return finding(
        "optimizer_updates_copy",
        ERROR,
        f"the optimizer steps the copy `{t.copy}`'s parameters (it holds them and updated them): a copy of "
        f"`{t.source}` must change only by its sync (a hard copy or an EMA), never by gradient steps",
        where=t.copy,
        evidence={"size": t.size, "steps": t.steps},
        suggestion=f"Freeze it (self.{t.copy}.requires_grad_(False)) so no gradient reaches it, or build the optimizer "
        f"over the source's parameters only.",
    )


def _never_synced(t: CopyTrace) -> dict[str, Any]:
    long_enough = t.steps >= SYNC_JUDGED_STEPS
    return finding(
        "copy_never_synced",
        WARNING if long_enough else INFO,
        f"the copy `{t.copy}` never changed in {t.steps} training steps while `{t.source}` did: train_step never "
        f"syncs it (no hard copy, no EMA update), so its targets stay those of the initial network"
        + (
            ""
            if long_enough
            else f"; a hard sync every > {t.steps} steps looks the same, so this is judged only "
            f"from {SYNC_JUDGED_STEPS} steps"
        ),
        where=t.copy,
        evidence={"size": t.size, "steps": t.steps},
        suggestion=f"Sync it in train_step: model.{t.copy}.load_state_dict(model.{t.source}.state_dict()) every K "
        "steps, or "
        f"an EMA update (torch._foreach_lerp_ of its parameters towards {t.source}'s) after optimizer.step().",
    )


def _not_lagging(t: CopyTrace) -> dict[str, Any]:
    return finding(
        "copy_not_lagging",
        WARNING,
        f"the copy `{t.copy}` equals `{t.source}` after every one of {t.steps} training steps: it does not lag its "
        "source (an EMA with decay 0, or a hard sync every step), so it is no slow target or average at all",
        where=t.copy,
        evidence={"size": t.size, "steps": t.steps},
        suggestion="Check the EMA decay (0.99-0.9999 keeps most of the old copy: copy = d*copy + (1-d)*source) or "
        "the sync period K (a hard copy every K > 1 steps).",
    )


def copy_findings(traces: list[CopyTrace]) -> list[dict[str, Any]]:
    """The four mechanisms, per copy."""
    found = []
    for t in traces:
        if t.grad_abs_sum > 0:
            found.append(_gradient(t))
        if t.optimizer_stepped:
            found.append(_optimizer(t))
        # A copy that differs from its source at build (a fixed teacher loaded apart) is not meant to sync.
        if t.equal_at_build and t.source_changed and not t.changed and not t.optimizer_stepped:
            found.append(_never_synced(t))
        if t.source_changed and t.equal_to_source_every_step:
            found.append(_not_lagging(t))
    return found
