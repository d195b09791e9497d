"""Loading the user's harness file and filling in the contract's defaults.

The harness is one ordinary Python file exposing `build_model` and `get_batch`, and
optionally `loss_fn`, `make_optimizer`, `train_step`, `num_classes`, `evaluate`,
`get_train_batch` (docs/harness-contract.md), plus the paper-type hooks:
`forward`, `loss_floor`, `objective`, `make_scheduler`, `ignore_index`, loss and
train-step dicts, and an on-policy `get_train_batch(batch_size, step, model)`.
Everything here runs in the worker.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import math
import os
import random
import sys
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import nn

from . import import_guard
from .failures import HarnessError

REQUIRED = ("build_model", "get_batch")
OPTIONAL = (
    "loss_fn",
    "make_optimizer",
    "train_step",
    "num_classes",
    "evaluate",
    "get_train_batch",
    "forward",
    "loss_floor",
    "objective",
    "make_scheduler",
    "ignore_index",
    "frozen_copies",
    "adversarial",
)
DEFAULT_IGNORE_INDEX = -100  # PyTorch's cross_entropy default: padding targets


def load_module(path: str) -> ModuleType:
    """Import the harness file as a fresh module. Its folder goes first on sys.path so
    that it can import its sibling files (`from model import GPT`).

    The job runs in the project root (run_job changed to it), and the file and every
    project module it imports are checked to lie inside it, here, as they are opened."""
    root = os.path.realpath(os.getcwd())
    source = import_guard.read_inside(path, root)
    import_guard.install(root)
    sys.path.insert(0, os.path.dirname(path))
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules or name in sys.stdlib_module_names:
        name = "_harness_" + name  # never shadow torch, numpy or the standard library
    spec = importlib.util.spec_from_file_location(name, path, loader=import_guard.CheckedSource(path, source))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickle look a module up by name
    spec.loader.exec_module(module)
    return module


def defined_callables(module: ModuleType) -> list[str]:
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


def default_loss(output: Any, batch: Any, ignore_index: int = DEFAULT_IGNORE_INDEX) -> torch.Tensor:
    """Cross-entropy for integer targets (logits on the last dim), MSE for float targets."""
    targets = targets_of(batch)
    if targets is None:
        raise HarnessError(
            "the default loss needs get_batch to return (inputs, targets) or a dict with a 'targets'/'y' key; "
            f"define loss_fn(model, batch) for a batch of type {type(batch).__name__}",
            where="loss_fn",
        )
    if not isinstance(output, torch.Tensor):
        raise HarnessError(
            f"the model returned {type(output).__name__}, not a tensor: define loss_fn(model, batch)",
            where="loss_fn",
        )
    if not targets.is_floating_point():
        # (..., C) logits against (...) class ids: flatten the leading dims.
        return nn.functional.cross_entropy(
            output.reshape(-1, output.shape[-1]), targets.reshape(-1), ignore_index=ignore_index
        )
    if output.shape != targets.shape:
        raise HarnessError(
            f"model output {tuple(output.shape)} and float targets {tuple(targets.shape)} differ in shape; "
            "MSE would silently broadcast them. Reshape one of them or define loss_fn.",
            where="loss_fn",
        )
    return nn.functional.mse_loss(output, targets)


def default_optimizer(params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr)


def _scalar(value: Any, what: str, where: str) -> torch.Tensor:
    """A 0-d tensor from a scalar tensor or number; anything else breaks the contract."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.reshape(())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(value))
    shape = f" of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else ""
    raise HarnessError(
        f"{what} is {type(value).__name__}{shape}, expected a scalar (reduce it, e.g. .mean())", where=where
    )


def split_terms(value: Any, where: str, keep_graph: bool = False) -> tuple[Any, dict[str, torch.Tensor]]:
    """A loss or train-step result: (the loss itself, the other named terms as detached 0-d tensors).

    A dict must hold "loss"; every other entry is a term or metric reported beside it."""
    if not isinstance(value, dict):
        return value, {}
    if "loss" not in value:
        raise HarnessError(
            f"{where} returned a dict without a 'loss' key (keys: {sorted(map(str, value))}); "
            'return {"loss": total, "<term>": value, ...}',
            where=where,
        )
    terms = {str(k): _scalar(v, f"{where}()[{k!r}]", where) for k, v in value.items() if k != "loss"}
    if not keep_graph:  # gradient_check differentiates each term on its own; everyone else only reads them
        terms = {k: v.detach() for k, v in terms.items()}
    return value["loss"], terms


def next_state_key(batch: Any) -> Any:
    """The key of a dict batch's next states (its name contains "next": next_states, next_obs, obs_next): a batch
    of transitions for a bootstrapped (TD) loss; None for any other batch."""
    if not isinstance(batch, dict):
        return None
    return next((k for k, v in batch.items() if isinstance(v, torch.Tensor) and "next" in str(k).lower()), None)


def _parameters(fn: Any) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return {}


def _takes_model(fn: Any) -> bool:
    """Whether get_train_batch wants the current model (on-policy data): a `model` parameter or a third
    positional one other than `seed`."""
    params = _parameters(fn)
    positional = [
        p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "seed"
    ]
    return "model" in params or len(positional) >= 3


def _takes_seed(fn: Any) -> bool:
    """Whether get_train_batch has a `seed` parameter: it is then given the seed of the run it feeds."""
    found = _parameters(fn).get("seed")
    return found is not None and found.kind != found.POSITIONAL_ONLY


class Harness:
    """The user's callables, with the contract's defaults where the file defines none."""

    def __init__(self, path: str, names: dict[str, str] | None = None):
        self.path = path
        self.module = load_module(path)
        names = names or {}
        unknown = set(names) - set(REQUIRED + OPTIONAL)
        if unknown:
            raise HarnessError(
                f"names overrides unknown contract names {sorted(unknown)}; known: {list(REQUIRED + OPTIONAL)}"
            )
        self._names = {role: names.get(role, role) for role in REQUIRED + OPTIONAL}
        for role in REQUIRED:
            if not callable(self._lookup(role)):
                raise HarnessError(
                    f"{os.path.basename(path)} defines no callable `{self._names[role]}` (role {role}); "
                    f"it defines: {', '.join(defined_callables(self.module)) or 'no functions'}",
                    where=os.path.basename(path),
                    suggestion=f"Add {role}() to the harness, "
                    f'or map your name with names={{"{role}": "your_function"}}.',
                )
        self.build_model_fn = self._lookup("build_model")
        self.get_batch_fn = self._lookup("get_batch")
        self.loss_fn = self._lookup("loss_fn")
        self.make_optimizer_fn = self._lookup("make_optimizer") or default_optimizer
        self.train_step_fn = self._lookup("train_step")
        self.evaluate_fn = self._lookup("evaluate")
        self.get_train_batch_fn = self._lookup("get_train_batch")
        self.forward_fn = self._lookup("forward")
        self.make_scheduler_fn = self._lookup("make_scheduler")
        self.num_classes = self._int_attribute("num_classes", None)
        self.ignore_index = self._int_attribute("ignore_index", DEFAULT_IGNORE_INDEX)
        self.objective = self._objective()
        self.frozen_copies = self._lookup("frozen_copies")  # {"target": "online"}: copy module -> source module
        self.takes_model = self.get_train_batch_fn is not None and _takes_model(self.get_train_batch_fn)
        # get_train_batch takes the model: the data come from the model itself (RL), so the loss (a surrogate,
        # or a TD loss whose targets move) says little over a run; the `objective` says whether it works.
        self.on_policy = self.takes_model
        self.adversarial = self._adversarial()
        self.takes_seed = self.get_train_batch_fn is not None and _takes_seed(self.get_train_batch_fn)
        self._loss_floor = self._lookup("loss_floor")
        if self._loss_floor is not None and not callable(self._loss_floor):
            self._loss_floor = float(_scalar(self._loss_floor, "loss_floor", "loss_floor"))

    def named(self, name: str, what: str) -> Any:
        """The harness's own `name` (a function or class a tool tests), or a HarnessError listing what it defines."""
        target = getattr(self.module, name, None)
        if target is None:
            raise HarnessError(
                f"{what} {name!r} is not defined in the harness; it defines: "
                f"{', '.join(defined_callables(self.module)) or 'no functions'}",
                where=name,
            )
        return target

    def _adversarial(self) -> bool:
        """`adversarial = True`: the loss is a minimax game (a GAN's generator against its discriminator, a
        domain-adversarial classifier). The players pull it opposite ways, so its sum has no floor and need not fall."""
        value = self._lookup("adversarial")
        if value is not None and not isinstance(value, bool):
            raise HarnessError(f"adversarial must be True or False, got {type(value).__name__}", where="adversarial")
        return bool(value)

    @functools.cached_property
    def surrogate(self) -> str | None:
        """Why a fixed batch has no loss target to memorise: "rollouts" (an on-policy surrogate), "adversarial"
        (a declared minimax game), "likelihood" (`loss_floor = -inf`: a continuous density's negative
        log-likelihood, which a few examples drive down without limit), or None (the loss says whether it learned)."""
        if self.adversarial:
            return "adversarial"
        if self._loss_floor == -math.inf:
            return "likelihood"
        return "rollouts" if self.rollouts else None

    @functools.cached_property
    def rollouts(self) -> bool:
        """Whether a fixed batch to memorise is one of rollouts (REINFORCE: a surrogate loss with no floor): on-policy
        data and get_batch's batch is no set of transitions. A replay-based agent (DQN) acts with the model too, but
        get_batch holds transitions (a next-state key) and its TD loss on them is a regression it can memorise."""
        if not self.on_policy:
            return False
        try:
            return next_state_key(self.peek_batch(2)) is None
        except Exception:
            return True

    def peek_batch(self, size: int, split: str = "train") -> Any:
        """get_batch's batch without moving the user's random streams (torch, numpy, random): peeking must not
        change what the check itself draws next."""
        state = random.getstate(), np.random.get_state()
        try:
            with torch.random.fork_rng(devices=[]):
                return self.get_batch(size, split)
        finally:
            random.setstate(state[0])
            np.random.set_state(state[1])

    def _lookup(self, role: str) -> Any:
        return getattr(self.module, self._names[role], None)

    def _int_attribute(self, role: str, default: int | None) -> int | None:
        value = self._lookup(role)
        if value is None:
            return default
        if not isinstance(value, int) or isinstance(value, bool):
            raise HarnessError(f"{role} must be an int, got {type(value).__name__}", where=role)
        return value

    def _objective(self) -> dict[str, str] | None:
        value = self._lookup("objective")
        if value is None:
            return None
        if not (
            isinstance(value, dict) and isinstance(value.get("monitor"), str) and value.get("mode") in ("max", "min")
        ):
            raise HarnessError(
                f"objective must be a dict like {{'monitor': 'return', 'mode': 'max'}}, got {value!r}"[:300],
                where="objective",
                suggestion="monitor names a metric evaluate(model) returns; mode is 'max' or 'min'.",
            )
        return {"monitor": value["monitor"], "mode": value["mode"]}

    @property
    def defines(self) -> dict[str, bool]:
        return {role: self._lookup(role) is not None for role in REQUIRED + OPTIONAL}

    @property
    def uses_default_loss(self) -> bool:
        """Cross-entropy/MSE of the contract: the only loss whose value at init theory gives us."""
        return self.loss_fn is None

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
            raise HarnessError(
                "get_batch returned None; return (inputs, targets) or a dict of tensors", where="get_batch"
            )
        return batch

    def forward(self, model: nn.Module, batch: Any) -> Any:
        """The model's output on a batch: the harness's forward(model, batch), else model(inputs)."""
        if self.forward_fn is not None:
            return self.forward_fn(model, batch)
        return model(inputs_of(batch))

    def loss_terms(
        self, model: nn.Module, batch: Any, keep_graph: bool = False
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss to optimise (a scalar tensor with its graph) and the named terms beside it."""
        if self.loss_fn is None:
            return default_loss(self.forward(model, batch), batch, self.ignore_index), {}
        loss, terms = split_terms(self.loss_fn(model, batch), "loss_fn", keep_graph)
        if not isinstance(loss, torch.Tensor):
            raise HarnessError(f"loss_fn returned {type(loss).__name__}, expected a scalar tensor", where="loss_fn")
        if loss.dim() != 0:
            raise HarnessError(
                f"loss_fn returned a tensor of shape {tuple(loss.shape)}, expected a scalar: reduce it (e.g. .mean())",
                where="loss_fn",
            )
        return loss, terms

    def loss(self, model: nn.Module, batch: Any) -> torch.Tensor:
        return self.loss_terms(model, batch)[0]

    def loss_floor(self, batch: Any) -> float | None:
        """The lowest loss a perfect model reaches on `batch`, when the harness declares one."""
        if self._loss_floor is None or not callable(self._loss_floor):
            return self._loss_floor
        floor = float(_scalar(self._loss_floor(batch), "loss_floor(batch)", "loss_floor"))
        if not math.isfinite(floor):
            raise HarnessError(f"loss_floor(batch) returned {floor}, expected a finite number", where="loss_floor")
        return floor

    def make_optimizer(self, params, lr: float) -> torch.optim.Optimizer:
        optimizer = self.make_optimizer_fn(params, lr)
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise HarnessError(
                f"make_optimizer returned {type(optimizer).__name__}, expected a torch.optim.Optimizer",
                where="make_optimizer",
            )
        return optimizer

    def make_scheduler(self, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
        """The harness's scheduler for a run of `total_steps`, stepped once per step; None without one."""
        if self.make_scheduler_fn is None:
            return None
        scheduler = self.make_scheduler_fn(optimizer, total_steps)
        if not callable(getattr(scheduler, "step", None)):
            raise HarnessError(
                f"make_scheduler returned {type(scheduler).__name__}, expected an LR scheduler with .step()",
                where="make_scheduler",
            )
        return scheduler

    def train_step(
        self, model: nn.Module, batch: Any, optimizer: torch.optim.Optimizer
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """One optimisation step: the loss as a detached 0-d tensor (no host sync) and the named terms."""
        if self.train_step_fn is None:
            optimizer.zero_grad(set_to_none=True)
            loss, terms = self.loss_terms(model, batch)
            loss.backward()
            optimizer.step()
            return loss.detach(), terms
        loss, terms = split_terms(self.train_step_fn(model, batch, optimizer), "train_step")
        if isinstance(loss, (torch.Tensor, int, float)) and not isinstance(loss, bool):
            return _scalar(loss, "the loss train_step returned", "train_step").detach(), terms
        raise HarnessError(
            f"train_step returned {type(loss).__name__}, "
            "expected the loss (float, scalar tensor or a dict with 'loss')",
            where="train_step",
        )

    def train_batch(self, batch_size: int, step: int, model: nn.Module | None = None, seed: int = 0) -> Any:
        """The batch for training step `step`: get_train_batch when defined (given the model when it
        asks for one: on-policy data; the run's seed when it has a `seed` parameter), else the fixed
        get_batch batch."""
        if self.get_train_batch_fn is None:
            return self.get_batch(batch_size, "train")
        extra = {"seed": seed} if self.takes_seed else {}
        if self.takes_model:
            return self.get_train_batch_fn(batch_size, step, model, **extra)
        return self.get_train_batch_fn(batch_size, step, **extra)

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """The harness's metrics; values may be NaN or Inf (callers judge them: non_finite_metric)."""
        if self.evaluate_fn is None:
            raise HarnessError("the harness defines no evaluate(model) -> dict[str, float]", where="evaluate")
        metrics = self.evaluate_fn(model)
        if not isinstance(metrics, dict):
            raise HarnessError("evaluate(model) must return a dict of metric name -> number", where="evaluate")
        return {str(k)[:200]: float(_scalar(v, f"evaluate()[{k!r}]"[:200], "evaluate")) for k, v in metrics.items()}
