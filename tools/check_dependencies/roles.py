"""Which element of the batch plays which role, for check_dependencies' mechanism probes.

A harness may declare them (module-level `batch_roles`, docs/harness-contract.md):

    batch_roles = {"conditions": ["t"], "pad_mask": "attention_mask", "attention": "bidirectional"}

Undeclared roles are inferred from the batch, and only where the batch itself says so:
* pad_mask: a bool or 0/1 tensor of shape (B, T) beside (B, T, ...) inputs that holds both values;
  the value that marks padding is the one whose positions all hold one token id (else by name:
  a "pad" mask marks padding with True/1, an attention_mask with 0);
* attention: integer targets of the inputs' shape that equal the inputs shifted by one are a
  causal LM's; targets mostly ignore_index, or equal to the inputs at most but not all positions
  (an MLM whose unselected labels were not ignored), are a masked-LM encoder's;
* conditions: every tensor the model itself is called with beyond its first (dependencies_mechanisms);
  a key that forward never passes to the model (x_t built in get_batch, t dropped) must be declared:
  batch keys are not guessed by name, since an RL batch's "time" or "action" rightly never reaches the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..worker.failures import HarnessError
from ..worker.harness import targets_of

ATTENTION = ("causal", "bidirectional")
SHIFTED = 0.9  # of scored positions: targets equal to the inputs shifted by one read as a causal LM
MOSTLY = 0.5  # of positions: ignored labels (or labels equal to the inputs) read as a masked LM


@dataclass
class Roles:
    conditions: list[int | str] = field(default_factory=list)
    declared_conditions: bool = False
    pad_mask: int | str | None = None
    real: torch.Tensor | None = None  # (B, T) bool: True at real (not padded) positions
    attention: str | None = None  # "causal" (decoder LM) or "bidirectional" (encoder), None when unknown
    why: dict[str, str] = field(default_factory=dict)  # how each role was found, for the details

    def described(self) -> dict[str, Any]:
        return {
            "conditions": [str(k) for k in self.conditions],
            "pad_mask": self.pad_mask,
            "attention": self.attention,
            "how": {role: why for role, why in self.why.items() if why},
        }


def elements(batch: Any) -> dict[int | str, Any]:
    """The batch's elements by key (dict key or tuple index); empty for a bare tensor."""
    if isinstance(batch, dict):
        return dict(batch)
    if isinstance(batch, (tuple, list)):
        return dict(enumerate(batch))
    return {}


def targets_key(batch: Any) -> int | str | None:
    targets = targets_of(batch)
    return (
        next((key for key, value in elements(batch).items() if value is targets), None) if targets is not None else None
    )


def _refuse(role: str, key: Any, batch: Any, why: str) -> HarnessError:
    keys = list(elements(batch)) if elements(batch) else f"none (the batch is a {type(batch).__name__})"
    return HarnessError(
        f"batch_roles[{role!r}] names {key!r}, {why}; the batch's keys are {keys}",
        where="batch_roles",
        suggestion='Name keys of get_batch\'s dict (or indices of its tuple): batch_roles = {"conditions": ["t"], '
        '"pad_mask": "attention_mask", "attention": "bidirectional"}.',
    )


def _declared(ctx, batch: Any) -> dict[str, Any]:
    value = getattr(ctx.harness.module, "batch_roles", None)
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - {"conditions", "pad_mask", "attention"}:
        raise HarnessError(
            f"batch_roles must be a dict with keys among conditions, pad_mask, attention; got {value!r}"[:300],
            where="batch_roles",
        )
    conditions = value.get("conditions", [])
    conditions = [conditions] if isinstance(conditions, (str, int)) else list(conditions)
    present = elements(batch)
    for key in conditions + ([value["pad_mask"]] if "pad_mask" in value else []):
        if not isinstance(present.get(key), torch.Tensor):
            raise _refuse(
                "conditions" if key in conditions else "pad_mask", key, batch, "which is not a tensor of the batch"
            )
    if value.get("attention", "causal") not in ATTENTION:
        raise HarnessError(
            f"batch_roles['attention'] must be one of {ATTENTION}, got {value['attention']!r}", where="batch_roles"
        )
    return value | {"conditions": conditions}


def zero_one(tensor: torch.Tensor) -> bool:
    """A bool tensor, or one holding only 0s and 1s: a mask."""
    return tensor.dtype == torch.bool or bool(((tensor == 0) | (tensor == 1)).all())


def _is_mask(value: Any, inputs: torch.Tensor) -> bool:
    """A (B, T) mask beside (B, T, ...) inputs."""
    fits = isinstance(value, torch.Tensor) and inputs.dim() >= 2 and value.shape == inputs.shape[:2]
    return fits and zero_one(value)


def _real_positions(mask: torch.Tensor, key: int | str, inputs: torch.Tensor) -> tuple[torch.Tensor, str]:
    """(True at real positions, why): the mask value whose positions all hold one token id marks padding."""
    marks = mask.bool()
    if not inputs.is_floating_point() and inputs.dim() == 2:
        for padding in (False, True):
            ids, others = inputs[marks == padding], inputs[marks != padding]
            if ids.numel() and others.numel() and bool((ids == ids[0]).all()) and not bool((others == ids[0]).all()):
                return (
                    marks != padding,
                    f"{key!r}: its {int(padding)}s sit on one token id ({int(ids[0])}), the padding",
                )
    padding = "pad" in str(key).lower()
    return marks != padding, f"{key!r}: by its name, {int(padding)} marks padding"


def _pad_mask(batch: Any, inputs: torch.Tensor, skip: set, declared: Any) -> tuple[Any, torch.Tensor | None, str]:
    present = elements(batch)
    if declared is not None:
        if not _is_mask(present[declared], inputs):
            raise _refuse(
                "pad_mask",
                declared,
                batch,
                f"a {tuple(present[declared].shape)} {present[declared].dtype} tensor, "
                f"not a bool/0-1 mask of the inputs' (B, T) = {tuple(inputs.shape[:2])}",
            )
        real, why = _real_positions(present[declared], declared, inputs)
        return declared, real, "declared " + why
    for key, value in present.items():
        if key not in skip and _is_mask(value, inputs) and value.bool().any() and not value.bool().all():
            real, why = _real_positions(value, key, inputs)
            return key, real, why
    return None, None, ""


def _attention(inputs: torch.Tensor, targets: torch.Tensor | None, ignore_index: int) -> tuple[str | None, str]:
    """causal LM, masked-LM encoder, or unknown, read off integer targets of the inputs' shape."""
    if targets is None or inputs.is_floating_point() or targets.is_floating_point() or targets.shape != inputs.shape:
        return None, ""
    if inputs.dim() < 2 or inputs.shape[1] < 2:
        return None, ""
    scored = targets[:, :-1] != ignore_index
    if scored.any() and float((targets[:, :-1] == inputs[:, 1:])[scored].float().mean()) >= SHIFTED:
        return "causal", "the targets are the inputs shifted by one (a causal language model)"
    ignored = float((targets == ignore_index).float().mean())
    if MOSTLY <= ignored < 1:
        return "bidirectional", f"{ignored:.0%} of the labels are ignore_index={ignore_index} (a masked-LM encoder)"
    same = copied_labels(inputs, targets, ignore_index)
    if MOSTLY <= same < 1:
        return (
            "bidirectional",
            f"the labels equal the inputs at {same:.0%} of scored positions, not all (a masked-LM encoder)",
        )
    return None, ""


def copied_labels(inputs: torch.Tensor, targets: torch.Tensor, ignore_index: int) -> float:
    """Fraction of the scored labels equal to the input token at their position (an MLM's selected positions
    hold [MASK] or a random token 90% of the time, so a correct one copies ~10%)."""
    if inputs.shape != targets.shape or inputs.is_floating_point() or targets.is_floating_point():
        return 0.0
    scored = targets != ignore_index
    return float((targets == inputs)[scored].float().mean()) if scored.any() else 0.0


def roles_of(ctx, batch: Any, input_key: int | str | None) -> Roles:
    """The roles of the batch's elements: declared first, inferred where the batch shows them."""
    declared = _declared(ctx, batch)
    inputs = batch if input_key is None else batch[input_key]
    found = Roles()
    target = targets_key(batch)
    key, found.real, why = _pad_mask(batch, inputs, {input_key, target}, declared.get("pad_mask"))
    if key is not None:
        found.pad_mask, found.why["pad_mask"] = key, why
    if "attention" in declared:
        found.attention, found.why["attention"] = declared["attention"], "declared in batch_roles"
    else:
        found.attention, found.why["attention"] = _attention(inputs, targets_of(batch), ctx.harness.ignore_index)
    if "conditions" in declared:
        found.conditions, found.declared_conditions = declared["conditions"], True
    return found
