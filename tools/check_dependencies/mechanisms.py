"""check_dependencies' mechanism probes, run at its defaults on the roles the batch shows
(dependencies_roles): does the output depend on every conditioning input (a diffusion timestep,
a class label), does an encoder see both sides, are padded positions ignored, and does the
loss score only the supervised positions?

Each probe costs at most one forward or one input-only backward pass, on the trace that the
batch check already made (the loss probe: one forward and one backward of the loss):
* conditions: each tensor the model is called with (beyond its first) and each condition key of
  the batch is perturbed (integers resampled within their observed range, floats moved by their
  own spread) and the output compared with the unperturbed one; an exact match means the input
  never reaches the output;
* bidirectional (an encoder): the gradient of each example's first real output on its later real
  inputs; zero means a causal mask was left in;
* padding: the gradient of every real output on the padded inputs must be zero;
* supervised positions: the gradient of the loss with respect to the model's output must be zero
  at positions whose label is ignore_index;
* positions (an encoder): each example's real positions permuted among themselves (padding fixed); outputs
  that are exactly the unpermuted outputs permuted mean no position information reaches the model.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..wire.findings import ERROR, WARNING, finding
from ..worker.graph_batch import interaction_matrix, row_masks
from ..worker.harness import targets_of
from .details import MechanismResult
from .forward import Axis, Batch, ForwardTrace, masked_vjp_norms, model_output, output_tensor, reseed
from .position import MAX_TOLERANCE, ULPS
from .roles import MOSTLY, Roles, copied_labels, elements, targets_key

LABEL_ARGUMENTS = frozenset({"labels", "label", "targets", "target", "y"})  # HF-style models take their labels


def _perturbed(value: torch.Tensor, seed: int) -> torch.Tensor:
    """The tensor with every value moved: integers resampled within their observed range, floats by their spread."""
    generator = torch.Generator().manual_seed(seed)
    if value.dtype == torch.bool:
        return ~value
    if not value.is_floating_point():
        low, span = int(value.min()), max(int(value.max()) - int(value.min()) + 1, 2)
        return low + (value - low + torch.randint(1, span, value.shape, generator=generator).to(value.device)) % span
    spread = float(value.double().std()) if value.numel() > 1 else 0.0
    scale = spread or float(value.double().abs().mean()) or 1.0
    return value + scale * torch.randn(value.shape, generator=generator).to(value.device, value.dtype)


class CallArguments:
    """Records the tensors of the model's first top-level call, or swaps one of them for another."""

    def __init__(self, model: nn.Module, swap: tuple[int | str, torch.Tensor] | None = None):
        self.model, self.swap = model, swap
        self.seen: dict[Any, Any] | None = None

    def __enter__(self):
        self.handle = self.model.register_forward_pre_hook(self.hook, with_kwargs=True)
        return self

    def __exit__(self, *exc):
        self.handle.remove()

    def hook(self, module, args, kwargs):
        if self.seen is not None:
            return None
        self.seen = {**dict(enumerate(args)), **kwargs}
        if self.swap is None:
            return None
        where, value = self.swap
        if isinstance(where, int):
            return (*args[:where], value, *args[where + 1 :]), kwargs
        return args, {**kwargs, where: value}


def _output(ctx, model: nn.Module, batch: Any, cost, swap=None) -> tuple[torch.Tensor, dict]:
    cost.forward_passes += 1
    reseed(ctx.seed)  # code that samples (dropout) samples alike in every pass
    with torch.no_grad(), CallArguments(model, swap) as call:
        output = model_output(ctx, model, batch).detach()
    return output, call.seen or {}


def _change(changed: torch.Tensor, base: torch.Tensor) -> float:
    return float((changed - base).double().norm() / base.double().norm().clamp_min(1e-30))


def _condition_subjects(seen: dict, batch: Batch, roles: Roles) -> list[tuple[str, str, Any, torch.Tensor]]:
    """(label, 'argument' or 'batch', where to swap it, value): every tensor the model is called with
    beyond its first (not the labels, not the pad mask), then the batch's condition keys not passed as such."""
    parts = elements(batch.value)
    name_of = {id(v): k for k, v in parts.items() if isinstance(v, torch.Tensor)}
    skip = {id(parts[k]) for k in (batch.key, targets_key(batch.value), roles.pad_mask) if k in parts}
    subjects, passed = [], set()
    for where, value in seen.items():
        if where == 0 or not isinstance(value, torch.Tensor) or id(value) in skip or str(where) in LABEL_ARGUMENTS:
            continue
        key = name_of.get(id(value))
        passed.add(key)
        label = f"the model's argument {where!r}" + (f" (batch[{key!r}])" if key is not None else "")
        subjects.append((label, "argument", where, value))
    subjects += [(f"batch[{key!r}]", "batch", key, parts[key]) for key in roles.conditions if key not in passed]
    return subjects


def _unused(label: str, value: torch.Tensor, declared: bool) -> dict[str, Any]:
    return finding(
        "unused_input",
        ERROR if declared else WARNING,
        f"the output does not change when {label} (shape {tuple(value.shape)}, "
        f"{str(value.dtype).replace('torch.', '')}) changes: that input never reaches the model's output (a diffusion "
        "timestep or a class label that is passed but never embedded or added)",
        where="build_model",
        evidence={"input": label, "relative_change": 0.0},
        suggestion="Follow the input through the model's forward: embed it (a sinusoidal or learned timestep "
        "embedding, an nn.Embedding for a label) and add it to the hidden state; check that forward(model, batch) "
        "passes it. After fixing, call check_dependencies again.",
    )


def conditions(ctx, model: nn.Module, batch: Batch, trace: ForwardTrace, roles: Roles, threshold: float):
    """(findings, results): perturb each conditioning input alone; an unchanged output means it is unused.
    The unperturbed output is the trace's (the same seeded forward), so each input costs one forward."""
    base, cost = trace.output.detach(), trace.cost
    findings, results = [], []
    for label, kind, where, value in _condition_subjects(trace.arguments, batch, roles):
        moved = _perturbed(value, ctx.seed)
        try:
            if kind == "argument":
                changed, _ = _output(ctx, model, batch.value, cost, swap=(where, moved))
            else:
                changed, _ = _output(ctx, model, Batch(batch.value, where).with_inputs(moved), cost)
        except Exception as error:  # a perturbed value the model refuses (an id out of range)
            results.append(MechanismResult(probe="condition", subject=label, measured=False, note=f"{error}"[:200]))
            continue
        relative = _change(changed, base)
        results.append(MechanismResult(probe="condition", subject=label, measured=True, relative=relative))
        if relative <= threshold:
            declared = kind == "argument" or roles.declared_conditions
            findings.append(_unused(label, value, declared))
    return findings, results


def _position_norms(trace: ForwardTrace, masks: torch.Tensor, seed: int) -> torch.Tensor | None:
    """(B, T): gradient norm at each input position of the outputs each example's (T,) mask selects."""
    size = masks.shape[1]
    if trace.leaf is None or not Axis("causal", 1, size).fits(trace.output) or trace.leaf.dim() < 2:
        return None
    return masked_vjp_norms(trace, trace.output, Axis("causal", 1, size), masks.unsqueeze(0), seed, per_example=True)[0]


def _real(trace: ForwardTrace, roles: Roles) -> torch.Tensor:
    examples, size = trace.output.shape[:2]
    return roles.real.cpu() if roles.real is not None else torch.ones(examples, size, dtype=torch.bool)


def bidirectional(trace: ForwardTrace, roles: Roles, threshold: float, seed: int):
    """An encoder's first real output must depend on its later real inputs (one backward pass)."""
    real = _real(trace, roles)
    first = real.float().argmax(dim=1)
    masks = torch.zeros_like(real)
    masks[torch.arange(len(real)), first] = True
    norms = _position_norms(trace, masks, seed)
    if norms is None:
        return [], [
            MechanismResult(
                probe="bidirectional",
                subject="positions",
                measured=False,
                note="no differentiable input of shape (B, T, ...) and output (B, T, ...)",
            )
        ]
    later = real & (torch.arange(real.shape[1]).view(1, -1) > first.view(-1, 1))
    own = norms[torch.arange(len(real)), first].clamp_min(1e-30)
    sees = [float(norms[e][later[e]].max() / own[e]) for e in range(len(real)) if later[e].any()]
    result = MechanismResult(
        probe="bidirectional", subject="positions", measured=bool(sees), relative=max(sees, default=None)
    )
    if not sees or max(sees) > threshold:
        return [], [result]
    message = (
        f"the first position of every example depends on no later position (largest relative dependence "
        f"{max(sees):.2g}): this encoder attends causally, but an encoder is meant to see both sides "
        f"({roles.why['attention']})"
    )
    suggestion = (
        "Remove the causal mask (torch.triu / is_causal=True) from the encoder's attention; mask only the padded "
        "keys. If this model is a decoder LM, declare batch_roles = {'attention': 'causal'}."
    )
    return [
        finding(
            "encoder_not_bidirectional",
            ERROR,
            message,
            where="build_model",
            evidence={"largest_relative": max(sees), "why_encoder": roles.why["attention"]},
            suggestion=suggestion,
        )
    ], [result]


def padding(trace: ForwardTrace, roles: Roles, threshold: float, seed: int):
    """Outputs at real positions must not depend on what the padded positions hold (one backward pass)."""
    real = _real(trace, roles)
    norms = _position_norms(trace, real, seed)
    subject = f"pad mask {roles.pad_mask!r}"
    if norms is None:
        return [], [
            MechanismResult(
                probe="padding",
                subject=subject,
                measured=False,
                note="no differentiable input of shape (B, T, ...) and output (B, T, ...)",
            )
        ]
    scale = float(norms[real].max()) or 1.0
    relative = float(norms[~real].max()) / scale
    result = MechanismResult(probe="padding", subject=subject, measured=True, relative=relative)
    if relative <= threshold:
        return [], [result]
    example = int((norms * ~real).flatten(1).max(dim=1).values.argmax())
    message = (
        f"outputs at real positions depend on the content of padded positions (relative dependence {relative:.3g}, "
        f"worst in example {example}; {roles.why['pad_mask']}): the pad mask is not applied to the keys, is applied "
        "on the query axis, or is inverted"
    )
    suggestion = (
        "Mask the padded *keys*: scores.masked_fill(pad[:, None, None, :], -inf) with pad True at padded "
        "positions (shape (B, 1, 1, T)), or key_padding_mask=pad for nn.MultiheadAttention; check which value "
        "marks padding. After fixing, call check_dependencies again."
    )
    return [
        finding(
            "padding_leak",
            ERROR,
            message,
            where="build_model",
            evidence={"relative": relative, "example": example, "pad_mask": str(roles.pad_mask)},
            suggestion=suggestion,
        )
    ], [result]


def _permutation(real: torch.Tensor, seed: int) -> torch.Tensor:
    """(B, T) index: each example's real positions shuffled among themselves (never left in place), padding fixed."""
    generator = torch.Generator().manual_seed(seed)
    index = torch.arange(real.shape[1]).repeat(len(real), 1)
    for example, row in enumerate(real):
        kept = row.nonzero().flatten()
        order = torch.randperm(len(kept), generator=generator)
        index[example, kept] = kept[order if not torch.equal(order, torch.arange(len(kept))) else order.roll(1)]
    return index


def positions(ctx, model: nn.Module, batch: Batch, trace: ForwardTrace, roles: Roles, cost):
    """An encoder's outputs at its permuted real positions must not be its outputs permuted (one forward pass)."""
    inputs, output = batch.inputs, trace.output.detach()
    if inputs.dim() < 2 or output.shape[:2] != inputs.shape[:2]:
        return [], []
    index = _permutation(_real(trace, roles), ctx.seed).to(inputs.device)
    spread = lambda t, i: i.view(*i.shape, *[1] * (t.dim() - 2)).expand(*i.shape, *t.shape[2:])  # noqa: E731
    cost.forward_passes += 1
    reseed(ctx.seed)
    with torch.no_grad():
        moved = model_output(ctx, model, batch.with_inputs(inputs.gather(1, spread(inputs, index))))
    difference = (moved - output.gather(1, spread(output, index))).abs().max() / output.abs().max().clamp_min(1e-30)
    tolerance = min(MAX_TOLERANCE, ULPS * torch.finfo(output.dtype).eps) if output.is_floating_point() else 0.0
    result = MechanismResult(
        probe="positions", subject="real positions permuted", measured=True, relative=float(difference)
    )
    if float(difference) > tolerance:
        return [], [result]
    message = (
        f"permuting each example's real positions permutes the encoder's outputs exactly (largest difference "
        f"{float(difference):.2g}): no position information reaches the model ({roles.why['attention']}); a set "
        "model (DeepSets) is order-blind by design, a sequence encoder is not"
    )
    suggestion = (
        "Add the position embeddings to the token embeddings before the first layer (computed but never added "
        "is the usual cause). After fixing, call check_dependencies again."
    )
    return [
        finding(
            "no_positional_information",
            ERROR,
            message,
            where="build_model",
            evidence={"largest_difference": float(difference), "tolerance": tolerance},
            suggestion=suggestion,
        )
    ], [result]


def _loss_gradient(ctx, model: nn.Module, batch: Any, shape: torch.Size, cost) -> torch.Tensor | None:
    """(shape): norm of d loss / d output at each labelled position, or None when the output does not line up."""
    cost.forward_passes += 1
    captured: list[torch.Tensor] = []
    handle = model.register_forward_hook(lambda module, args, output: captured.append(output_tensor(output)))
    reseed(ctx.seed)
    try:
        with torch.enable_grad():
            loss = ctx.harness.loss(model, batch)
            output = captured[0] if captured else None
            if output is None or not output.requires_grad or tuple(output.shape[: len(shape)]) != tuple(shape):
                return None
            cost.backward_calls += 1
            (grad,) = torch.autograd.grad(loss, output, allow_unused=True)
    finally:
        handle.remove()
    return None if grad is None else grad.detach().reshape(*shape, -1).double().norm(dim=-1).cpu()


def supervised_positions(ctx, model: nn.Module, batch: Batch, roles: Roles, threshold: float, cost):
    """The loss must score only the positions whose label is not ignore_index (one forward and backward of the
    loss); an encoder whose scored labels mostly equal its inputs scores positions it never selected."""
    targets, ignore = targets_of(batch.value), ctx.harness.ignore_index
    if targets is None or targets.is_floating_point() or targets.dim() < 2:
        return [], []
    findings, results, ignored = [], [], (targets == ignore).cpu()
    copied = copied_labels(batch.inputs, targets, ignore)
    if roles.attention != "causal" and MOSTLY <= copied < 1:
        message = (
            f"the labels equal the inputs at {copied:.0%} of the scored positions: the loss scores positions "
            "that were never selected (or masked), so most of it asks the model to copy its input"
        )
        findings.append(_scored_finding(message, {"copied_fraction": copied}, "get_batch", WARNING))
        results.append(
            MechanismResult(
                probe="supervised_positions", subject="labels equal to the inputs", measured=True, relative=copied
            )
        )
    if not ignored.any() or ignored.all():
        return findings, results
    norms = _loss_gradient(ctx, model, batch.value, targets.shape, cost)
    if norms is None:
        return findings, results + [
            MechanismResult(
                probe="supervised_positions",
                subject="loss gradient",
                measured=False,
                note="the model's output does not line up with the labels",
            )
        ]
    relative = float(norms[ignored].max() / norms[~ignored].max().clamp_min(1e-30))
    results.append(
        MechanismResult(probe="supervised_positions", subject="loss gradient", measured=True, relative=relative)
    )
    if relative > threshold:
        message = (
            f"the loss has a gradient at positions whose label is ignore_index={ignore} (relative {relative:.3g}): "
            "it scores positions the paper does not supervise"
        )
        findings.append(_scored_finding(message, {"relative": relative}, "loss_fn", ERROR))
    return findings, results


def supervised_rows(ctx, model: nn.Module, batch: Batch, threshold: float, cost):
    """One graph as the batch: the loss must score only the nodes its split labels, the rows of its one boolean
    (N,) mask (one forward and backward of the loss). A loss over every node trains on the test nodes' labels."""
    targets = targets_of(batch.value)
    rows = batch.inputs.shape[0] if batch.inputs.dim() > 0 else 0
    masks = row_masks(batch.value, rows)
    if interaction_matrix(batch.value, rows) is None or len(masks) != 1 or targets is None or targets.dim() != 1:
        return [], []
    ((key, labelled),) = masks.items()
    if not labelled.any() or labelled.all():
        return [], []
    norms = _loss_gradient(ctx, model, batch.value, targets.shape, cost)
    if norms is None:
        return [], [MechanismResult(probe="supervised_positions", subject=f"nodes outside {key}", measured=False,
                                    note="the model's output does not line up with the labels")]  # fmt: skip
    labelled = labelled.cpu()
    relative = float(norms[~labelled].max() / norms[labelled].max().clamp_min(1e-30))
    results = [
        MechanismResult(probe="supervised_positions", subject=f"nodes outside {key}", measured=True, relative=relative)
    ]
    if relative <= threshold:
        return [], results
    message = (
        f"the loss has a gradient at nodes outside {key} (relative {relative:.3g}): it scores nodes this split does "
        "not label, so training reads the labels of the others (the test nodes)"
    )
    found = finding(
        "loss_on_unselected_positions",
        ERROR,
        message,
        where="loss_fn",
        evidence={"relative": relative, "mask": key},
        suggestion=f"Index the output and the labels with the mask: cross_entropy(logits[mask], y[mask]) with mask = "
        f"{key}. After fixing, call check_dependencies again.",
    )
    return [found], results


def _scored_finding(message: str, evidence: dict[str, Any], where: str, severity: str) -> dict[str, Any]:
    return finding(
        "loss_on_unselected_positions",
        severity,
        message,
        where=where,
        evidence=evidence,
        suggestion="Set the label of every position the paper does not supervise to ignore_index (for an MLM: all but "
        "the ~15% selected positions, labels = torch.where(selected, tokens, -100)) and pass ignore_index to the "
        "cross-entropy. After fixing, call check_dependencies again.",
    )


def probe(ctx, model: nn.Module, batch: Batch, trace: ForwardTrace, roles: Roles, threshold: float):
    """(findings, results) of every probe the roles call for. Padding goes first: real positions that attend only
    to the padding (an inverted mask) also see no later real position, which is that one bug, not a causal mask."""
    findings, results = conditions(ctx, model, batch, trace, roles, threshold)
    if roles.pad_mask is not None:
        found, measured = padding(trace, roles, threshold, ctx.seed)
        findings, results = findings + found, results + measured
    if roles.attention == "bidirectional":
        found, measured = bidirectional(trace, roles, threshold, ctx.seed)
        findings += [] if any(f["code"] == "padding_leak" for f in findings) else found
        results += measured
        found, measured = positions(ctx, model, batch, trace, roles, trace.cost)
        findings, results = findings + found, results + measured
    found, measured = supervised_positions(ctx, model, batch, roles, threshold, trace.cost)
    on_rows, rows_measured = supervised_rows(ctx, model, batch, threshold, trace.cost)
    return findings + found + on_rows, results + measured + rows_measured


def summary(results: list[MechanismResult]) -> list[str]:
    """One summary line for the probes: what each saw, clean or not."""
    if not results:
        return []

    def seen(r: MechanismResult) -> str:
        if not r.measured:
            return "not measured"
        return "read (the loss refused the change)" if r.relative is None else f"{r.relative:.2g}"

    parts = [f"{r.probe} {r.subject}: {seen(r)}" for r in results]
    return ["probes (relative dependence or change) " + ", ".join(parts)]
