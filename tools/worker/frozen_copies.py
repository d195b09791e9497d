"""Frozen copies: target networks, EMA weights, momentum encoders, self-distillation teachers.

The model build_model returns holds its copy as a submodule (`self.target = copy.deepcopy(self.online)`),
and the harness's train_step uses it and syncs it. Nothing declares it: a copy is a submodule whose
parameter names and shapes mirror another submodule's, and that is either frozen (requires_grad False,
beside a trainable source) or named like a copy (target, ema, teacher, momentum...) and equal to its
source at build. Repeated trainable blocks (a Transformer's layers, annotated-Transformer `clones()`)
mirror each other too, but neither is frozen and neither is named like a copy. A harness may declare
its copies instead: `frozen_copies = {"target": "online"}` (copy module -> source module).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .failures import HarnessError

# The last part of a module name that says "a copy of another module".
COPY_NAME = re.compile(r"target|ema|teacher|momentum|shadow|average|avg|polyak|slow|old|frozen|key_enc", re.IGNORECASE)


@dataclass
class Copy:
    copy: str  # the copy's module name
    source: str  # the module it mirrors
    params: int  # elements in the copy
    declared: bool  # from the harness's frozen_copies, not inferred
    equal_at_build: bool  # made as a copy (deepcopy); a fixed teacher loaded apart is frozen but never synced


def _signature(module: nn.Module) -> tuple:
    """Parameter names and shapes; empty (never a copy) while a lazy module has no shapes yet."""
    params = list(module.named_parameters())
    if any(nn.parameter.is_lazy(p) for _, p in params):
        return ()
    return tuple((name, tuple(p.shape)) for name, p in params)


def _frozen(module: nn.Module) -> bool:
    return not any(p.requires_grad for p in module.parameters())


def _equal_and_informative(a: nn.Module, b: nn.Module) -> bool:
    """Same values, and not only constants (every LayerNorm starts at ones and zeros)."""
    pairs = list(zip(a.parameters(), b.parameters()))
    return all(torch.equal(p, q) for p, q in pairs) and any(p.numel() > 1 and bool(p.std() > 0) for p, _ in pairs)


def _copy_of(a: tuple[str, nn.Module], b: tuple[str, nn.Module]) -> tuple[str, str] | None:
    """(copy, source) when one of two mirrored modules is a copy of the other."""
    for (name, module), (other, source) in ((b, a), (a, b)):
        named = COPY_NAME.search(name.rpartition(".")[2]) is not None
        if _frozen(module) and not _frozen(source) and (named or _equal_and_informative(module, source)):
            return name, other
        if (
            named
            and not _frozen(source)
            and COPY_NAME.search(other.rpartition(".")[2]) is None
            and _equal_and_informative(module, source)
        ):
            return name, other
    return None


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _inferred(model: nn.Module) -> list[tuple[str, str]]:
    groups: dict[tuple, list[tuple[str, nn.Module]]] = {}
    for name, module in model.named_modules():
        if name and (signature := _signature(module)):
            groups.setdefault(signature, []).append((name, module))
    found: list[tuple[str, str]] = []
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                shared = {id(p) for p in a[1].parameters()} & {id(p) for p in b[1].parameters()}
                if not _related(a[0], b[0]) and not shared and (pair := _copy_of(a, b)):
                    found.append(pair)
    copies = {copy for copy, _ in found}
    # Keep the outermost pair: a copied network's layers mirror the source's layers too.
    return [(c, s) for c, s in found if not any(c.startswith(other + ".") for other in copies)]


def _declared(model: nn.Module, declared: Any) -> list[tuple[str, str]]:
    names = dict(model.named_modules())
    if not isinstance(declared, dict):
        raise HarnessError(
            f"frozen_copies must be a dict copy -> source, got {type(declared).__name__}", where="frozen_copies"
        )
    for key, value in declared.items():
        missing = [n for n in (key, value) if not isinstance(n, str) or n not in names or not n]
        if missing:
            children = ", ".join(name for name, _ in model.named_children())
            raise HarnessError(
                f"frozen_copies names {missing[0]!r}, which is not a submodule of the model; its top-level "
                f"submodules: {children or 'none'}",
                where="frozen_copies",
                suggestion='Name modules as model.named_modules() does, e.g. {"target": "online"}.',
            )
        if _signature(names[key]) != _signature(names[value]):
            raise HarnessError(
                f"frozen_copies: {key!r} does not mirror {value!r} (different parameter names or shapes)",
                where="frozen_copies",
            )
    return list(declared.items())


def find_copies(model: nn.Module, declared: Any = None) -> list[Copy]:
    """The model's copies and the modules they mirror: the harness's declaration, else inferred."""
    pairs = _declared(model, declared) if declared is not None else _inferred(model)
    modules = dict(model.named_modules())
    return [
        Copy(
            copy,
            source,
            sum(p.numel() for p in modules[copy].parameters()),
            declared is not None,
            all(torch.equal(p, q) for p, q in zip(modules[copy].parameters(), modules[source].parameters())),
        )
        for copy, source in pairs
    ]
