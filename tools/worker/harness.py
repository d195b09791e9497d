"""Loading the user's harness file and filling in the contract's defaults.

The harness is one ordinary Python file exposing `build_model` and `get_batch`, and
optionally `loss_fn`, `make_optimizer`, `train_step`, `num_classes`, `evaluate`,
`get_train_batch` (shared/design/contract.md §1). Everything here runs in the worker.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

import torch
from torch import nn

from .failures import HarnessError

REQUIRED = ("build_model", "get_batch")
OPTIONAL = ("loss_fn", "make_optimizer", "train_step", "num_classes", "evaluate", "get_train_batch")


def load_module(path: str) -> ModuleType:
    """Import the harness file as a fresh module. Its folder goes first on sys.path so
    that it can import its sibling files (`from model import GPT`)."""
    sys.path.insert(0, os.path.dirname(path))
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules or name in sys.stdlib_module_names:
        name = "_harness_" + name  # never shadow torch, numpy or the standard library
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickle look a module up by name
    spec.loader.exec_module(module)
    return module


def _defined_callables(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if callable(value) and not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    )


def to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, (list, tuple)):
        moved = [to_device(item, device) for item in batch]
        return type(batch)(*moved) if hasattr(batch, "_fields") else type(batch)(moved)
    if isinstance(batch, dict):
        return {key: to_device(value, device) for key, value in batch.items()}
    return batch


def _first_tensor_of(batch: Any, keys: tuple[str, ...]) -> torch.Tensor | None:
    if isinstance(batch, torch.Tensor):
        return batch
    if isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], torch.Tensor):
        return batch[0]
    if isinstance(batch, dict):
        for key in keys:
            if isinstance(batch.get(key), torch.Tensor):
                return batch[key]
    return None


def inputs_of(batch: Any) -> torch.Tensor:
    """The input tensor of a batch: batch[0] of a tuple/list, or its `inputs`/`x` key."""
    found = _first_tensor_of(batch, ("inputs", "input", "x"))
    if found is None:
        raise HarnessError(
            f"cannot find the input tensor in a batch of type {type(batch).__name__}: "
            "return (inputs, targets) from get_batch, or a dict with an 'inputs' or 'x' key",
            where="get_batch",
        )
    return found


def targets_of(batch: Any) -> torch.Tensor | None:
    if isinstance(batch, (list, tuple)) and len(batch) >= 2 and isinstance(batch[1], torch.Tensor):
        return batch[1]
    if isinstance(batch, dict):
        for key in ("targets", "target", "labels", "label", "y"):
            if isinstance(batch.get(key), torch.Tensor):
                return batch[key]
    return None


def default_loss(model: nn.Module, batch: Any) -> torch.Tensor:
    """Cross-entropy for integer targets (logits on the last dim), MSE for float targets."""
    if not (isinstance(batch, (list, tuple)) and len(batch) == 2):
        raise HarnessError(
            "the default loss needs get_batch to return (inputs, targets); define loss_fn(model, batch) "
            f"for a batch of type {type(batch).__name__}",
            where="loss_fn",
        )
    inputs, targets = batch
    output = model(inputs)
    if not isinstance(output, torch.Tensor):
        raise HarnessError(
            f"the model returned {type(output).__name__}, not a tensor: define loss_fn(model, batch)",
            where="loss_fn",
        )
    if not targets.is_floating_point():
        # (..., C) logits against (...) class ids: flatten the leading dims.
        return nn.functional.cross_entropy(output.reshape(-1, output.shape[-1]), targets.reshape(-1))
    if output.shape != targets.shape:
        raise HarnessError(
            f"model output {tuple(output.shape)} and float targets {tuple(targets.shape)} differ in shape; "
            "MSE would silently broadcast them. Reshape one of them or define loss_fn.",
            where="loss_fn",
        )
    return nn.functional.mse_loss(output, targets)


def default_optimizer(params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr)


class Harness:
    """The user's callables, with the contract's defaults where the file defines none."""

    def __init__(self, path: str, names: dict[str, str] | None = None):
        self.path = path
        self.module = load_module(path)
        names = names or {}
        unknown = set(names) - set(REQUIRED + OPTIONAL)
        if unknown:
            raise HarnessError(f"names overrides unknown contract names {sorted(unknown)}; known: {list(REQUIRED + OPTIONAL)}")
        self._names = {role: names.get(role, role) for role in REQUIRED + OPTIONAL}
        for role in REQUIRED:
            if not callable(self._lookup(role)):
                raise HarnessError(
                    f"{os.path.basename(path)} defines no callable `{self._names[role]}` (role {role}); "
                    f"it defines: {', '.join(_defined_callables(self.module)) or 'no functions'}",
                    where=os.path.basename(path),
                    suggestion=f'Add {role}() to the harness, or map your name with names={{"{role}": "your_function"}}.',
                )
        self.build_model_fn = self._lookup("build_model")
        self.get_batch_fn = self._lookup("get_batch")
        self.loss_fn = self._lookup("loss_fn") or default_loss
        self.make_optimizer_fn = self._lookup("make_optimizer") or default_optimizer
        self.train_step_fn = self._lookup("train_step")
        self.evaluate_fn = self._lookup("evaluate")
        self.get_train_batch_fn = self._lookup("get_train_batch")
        self.num_classes = self._lookup("num_classes")
        if self.num_classes is not None and not isinstance(self.num_classes, int):
            raise HarnessError(f"num_classes must be an int, got {type(self.num_classes).__name__}", where="num_classes")

    def _lookup(self, role: str) -> Any:
        return getattr(self.module, self._names[role], None)

    @property
    def defines(self) -> dict[str, bool]:
        return {role: self._lookup(role) is not None for role in REQUIRED + OPTIONAL}

    def build_model(self, **model_kwargs: Any) -> nn.Module:
        model = self.build_model_fn(**model_kwargs)
        if not isinstance(model, nn.Module):
            raise HarnessError(
                f"build_model returned {type(model).__name__}, expected a torch.nn.Module", where="build_model"
            )
        return model

    def get_batch(self, batch_size: int, split: str = "train") -> Any:
        batch = self.get_batch_fn(batch_size, split)
        if batch is None:
            raise HarnessError("get_batch returned None; return (inputs, targets) or a dict of tensors", where="get_batch")
        return batch

    def loss(self, model: nn.Module, batch: Any) -> torch.Tensor:
        loss = self.loss_fn(model, batch)
        if not isinstance(loss, torch.Tensor):
            raise HarnessError(f"loss_fn returned {type(loss).__name__}, expected a scalar tensor", where="loss_fn")
        if loss.dim() != 0:
            raise HarnessError(
                f"loss_fn returned a tensor of shape {tuple(loss.shape)}, expected a scalar: reduce it (e.g. .mean())",
                where="loss_fn",
            )
        return loss

    def make_optimizer(self, params, lr: float) -> torch.optim.Optimizer:
        optimizer = self.make_optimizer_fn(params, lr)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise HarnessError(
                f"make_optimizer returned {type(optimizer).__name__}, expected a torch.optim.Optimizer",
                where="make_optimizer",
            )
        return optimizer

    def train_step(self, model: nn.Module, batch: Any, optimizer: torch.optim.Optimizer) -> torch.Tensor:
        """One optimisation step; returns the loss as a detached tensor (no host sync)."""
        if self.train_step_fn is None:
            optimizer.zero_grad(set_to_none=True)
            loss = self.loss(model, batch)
            loss.backward()
            optimizer.step()
            return loss.detach()
        loss = self.train_step_fn(model, batch, optimizer)
        if isinstance(loss, torch.Tensor):
            return loss.detach().reshape(())
        if isinstance(loss, (int, float)):
            return torch.tensor(float(loss))
        raise HarnessError(f"train_step returned {type(loss).__name__}, expected the loss (float or scalar tensor)", where="train_step")

    def train_batch(self, batch_size: int, step: int) -> Any:
        """The batch for training step `step`: get_train_batch when defined, else the fixed get_batch."""
        if self.get_train_batch_fn is not None:
            return self.get_train_batch_fn(batch_size, step)
        return self.get_batch(batch_size, "train")

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        if self.evaluate_fn is None:
            raise HarnessError("the harness defines no evaluate(model) -> dict[str, float]", where="evaluate")
        metrics = self.evaluate_fn(model)
        if not isinstance(metrics, dict) or not all(isinstance(v, (int, float)) for v in metrics.values()):
            raise HarnessError("evaluate(model) must return a dict of metric name -> number", where="evaluate")
        return {str(k): float(v) for k, v in metrics.items()}
