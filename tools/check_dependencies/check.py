"""check_dependencies, worker side: does example i's output depend on example j's input,
or the output at position t on inputs after t? (mode "position" lives in
dependencies_position.py; the ranking of a leak's likely causes in dependencies_causes.py.)

Method: a vector-Jacobian product of the outputs, projected on a fixed random direction
and masked to some output slices, gives the input-gradient norm of every example or
position at once. The random direction matters: a plain sum can cancel (the outputs of a
softmax sum to 1, so their sum has no gradient). Many masks go through one batched
backward (`is_grads_batched`, vmap over the cotangents), chunked to a memory budget; a few
go through plain backward calls, which cost less.

* batch mode: a screen of every example pair in two backward passes (batch_screen: the
  cotangent, and its copy weighted 2**i on example i, must give gradients that differ by
  exactly those factors); when it shows a leak, one mask per example locates it.
* causal mode, default: a few *cuts*. Cut t masks every output at positions <= t; its
  gradient on inputs after t must be exactly zero. One cut sees every leak that crosses t,
  and real leaks are systematic (a missing, shifted or transposed mask, a wrong softmax
  dim, merged heads all cross every cut), so four cuts, striped one per example, cost one
  input-only backward pass at a batch of 4 however long the sequence. What they cannot see
  is a leak between two positions inside one gap between cuts; `exhaustive` (or
  `max_positions`) measures rows instead: one mask per output position, every position
  when asked, striped too.
* Token ids cannot be differentiated, so the gradient is taken at the output of the
  embedding that reads them; a model with no such embedding gets its tokens perturbed
  instead, one example or position at a time, and the change of every output is measured.

The model runs in eval mode: BatchNorm couples the examples of a training batch on
purpose, and that is not a bug. A correct model gives exact zeros off the allowed
pattern; anything above a small relative threshold is a leak, localised to the first
module whose output carries it while its inputs do not.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from ..wire.compact import evenly_spaced, significant
from ..wire.findings import ERROR, INFO, WARNING, finding, sort_findings
from ..wire.messages import DependencyRequest
from ..worker.failures import HarnessError
from ..worker.graph_batch import interaction_matrix
from ..worker.harness import targets_of
from ..worker.job import JobContext
from . import causes, loss as loss_probes, mechanisms
from .details import AxisResult, Cost, DependencyDetails, LeakPair
from .forward import (
    Axis,
    Batch,
    ForwardTrace,
    _direction,
    _gradients,
    _nothing_spent,
    masked_vjp_norms,
    model_output,
    reseed,
)
from .position import check_positions
from .roles import Roles, roles_of, zero_one

# Relative dependence counted as a leak. Gradients through a correct model are exact zeros
# off the allowed pattern; a real leak measured 0.05-0.6 on the fixtures, and shrinks like
# 1/T for one future position out of T (0.007 at T=128), so the bar sits far below that.
THRESHOLD = 1e-6
EPS_FACTOR = 10  # perturbation compares two forwards: allow ten machine epsilons of the output dtype
WORST_SHOWN = 8  # offending pairs listed in details and evidence
MAX_PROBED_TENSORS = 400  # module inputs/outputs probed (one backward each) to localise a leak
CUTS = 4  # causal cuts of the default check: 0, T-2 and two between
CONFIRMED = 2  # leaking causal masks re-measured alone, to tell a leak in time from one between examples
DIAGNOSTIC_ROWS = 16  # rows measured once a cut shows a leak: the pattern that ranks the causes
PERTURBED_COLUMNS = 8  # default perturbation check: positions whose tokens are changed
# The batch screen weighs example i's cotangent by 2**i: powers of two scale every float exactly,
# so a clean model's two gradients differ by exactly those factors. Beyond this many examples (or
# in float16, whose range 2**i would leave) every example gets its own cotangent instead.
SCREENED_EXAMPLES = 24
DEFAULT_INPUT_KEYS = ("inputs", "input", "x")


def _first_input(batch: dict, guess: bool) -> list[Any]:
    """A dict with none of the default keys (a diffusion batch {x0, t, noise}, tokens {input_ids, attention_mask,
    labels}): its only tensor of 2+ dims that is neither the targets nor a 0/1 mask; with `guess` (batch mode: any
    input shows a leak between examples), else its first float tensor, else its first tensor but the targets."""
    targets = targets_of(batch)
    tensors = [k for k, v in batch.items() if isinstance(v, torch.Tensor) and v.dim() and v is not targets]
    sequences = [k for k in tensors if batch[k].dim() >= 2 and not zero_one(batch[k])]
    if len(sequences) == 1 or not guess:
        return sequences if len(sequences) == 1 else []
    return [k for k in tensors if batch[k].is_floating_point()][:1] or tensors[:1]


def _input_key(batch: Any, which: int | str | None, guess: bool = False) -> int | str | None:
    """Where the input is: `which` when given, else batch[0] or the inputs/x key (the contract's default); with
    `guess` (batch mode: any input shows a leak between examples), a dict's first float tensor."""
    if isinstance(batch, torch.Tensor) and which is None:
        return None
    if isinstance(batch, (tuple, list)):
        key = 0 if which is None else which
        if isinstance(key, int) and -len(batch) <= key < len(batch) and isinstance(batch[key], torch.Tensor):
            return key % len(batch)
    elif isinstance(batch, dict):
        keys = [which] if which is not None else [k for k in DEFAULT_INPUT_KEYS if k in batch]
        keys = keys or _first_input(batch, guess)
        if keys and isinstance(batch.get(keys[0]), torch.Tensor):
            return keys[0]
    shape = f"a dict with keys {sorted(map(str, batch))}" if isinstance(batch, dict) else type(batch).__name__
    if isinstance(batch, (tuple, list)):
        shape = f"a {type(batch).__name__} of {len(batch)}: {[type(v).__name__ for v in batch]}"
    raise HarnessError(
        f"cannot find the input to perturb (input={which!r}) in a batch that is {shape}: pass `input` as the index "
        "or dict key of a tensor in the batch (e.g. input='src' for an encoder-decoder)",
        where="get_batch",
    )


def _tensors(value: Any) -> list[torch.Tensor]:
    items = value if isinstance(value, (tuple, list)) else [value]
    return [t for t in items if isinstance(t, torch.Tensor) and t.is_floating_point() and t.requires_grad]


def _trace(ctx: JobContext, model: nn.Module, batch: Batch) -> ForwardTrace:
    """Run the model once, recording every module's tensors and its attention calls; token ids
    get their embedding output swapped for a leaf we can differentiate."""
    inputs = batch.inputs
    trace = ForwardTrace(output=inputs, leaf=None, method="")

    def hook(name: str):
        def record(module: nn.Module, args: tuple, output: Any) -> Any:
            reads_tokens = args and isinstance(args[0], torch.Tensor) and args[0].shape == inputs.shape
            if (
                trace.leaf is None
                and isinstance(module, nn.Embedding)
                and reads_tokens
                and torch.equal(args[0], inputs)
            ):
                output = trace.leaf = output.detach().requires_grad_()
                trace.method = f"gradient at the output of embedding `{name}`"
            trace.calls.append((name or "<model>", type(module).__name__, _tensors(args), _tensors(output)))
            return output

        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in model.named_modules()]
    reseed(ctx.seed)  # as every probe's forward: code that samples samples alike, so outputs compare
    try:
        with causes.AttentionMaskRecorder(trace.attention), mechanisms.CallArguments(model) as call:
            if inputs.is_floating_point():
                trace.leaf = inputs.detach().clone().requires_grad_()
                trace.method = "gradient with respect to the inputs"
                trace.output = model_output(ctx, model, batch.with_inputs(trace.leaf))
            else:
                trace.output = model_output(ctx, model, batch.value)
                if trace.leaf is None:
                    trace.method = "token perturbation (no nn.Embedding reads the token ids)"
    finally:
        for handle in handles:
            handle.remove()
    trace.cost.forward_passes += 1
    trace.arguments = call.seen or {}
    return trace


def striped(trace: ForwardTrace, axis: Axis, plan: Plan, seed: int) -> torch.Tensor:
    """(len(plan.indices), size): causal rows or cuts measured B at a time, the j-th on example
    j mod B. The backward pass costs the same whatever the cotangent selects, so one pass serves
    every example: the four default cuts cost one pass at a batch of 4, the exhaustive check
    (T-1)/B instead of T-1. A leak between examples reads as a causal one when masks share a pass,
    so a leak seen striped is confirmed with `plan.alone` (see confirmed_alone)."""
    examples = trace.output.shape[0]
    per_pass = 1 if plan.alone else examples
    wanted = plan.masks(axis.size)
    masks = torch.zeros(-(-len(wanted) // per_pass), examples, axis.size, dtype=torch.bool)
    for j, mask in enumerate(wanted):
        masks[j // per_pass, j % examples] = mask
    norms = masked_vjp_norms(trace, trace.output, axis, masks, seed, per_example=True)
    return torch.stack([norms[j // per_pass, j % examples] for j in range(len(wanted))])


def screenable(trace: ForwardTrace, axis: Axis) -> bool:
    """Whether the two-pass batch screen applies: a differentiable leaf, few examples, a wide enough float."""
    return (
        trace.leaf is not None
        and 2 <= axis.size <= SCREENED_EXAMPLES
        and trace.output.dtype != torch.float16
        and trace.leaf.dtype != torch.float16
    )


def batch_screen(trace: ForwardTrace, axis: Axis, seed: int) -> torch.Tensor:
    """(size, size): an upper estimate of every example pair's relative dependence from two backward
    passes instead of one per example. With the cotangent r and its copy weighted 2**i on example
    i, a clean model's input gradients satisfy g'_j = 2**j g_j exactly (a VJP is linear, and powers
    of two scale floats exactly); what example i leaks into example j adds (2**i - 2**j) J_ij r_i
    to g'_j - 2**j g_j. Column j holds that residue over the largest weight difference and the
    largest gradient: zero off the diagonal for a clean model, above the threshold when any example
    leaks into j (only a leak that cancels itself across examples could hide)."""
    tensor, size = trace.output, axis.size
    matrix = torch.eye(size, dtype=torch.float64)
    if not tensor.requires_grad:
        return matrix
    shape = (size,) + (1,) * (tensor.dim() - 1)
    weights = 2.0 ** torch.arange(size, dtype=torch.float64)
    direction = _direction(tensor, seed)
    scaled = direction * weights.to(tensor.dtype).view(shape)
    grads = _gradients(tensor, trace.leaf, torch.stack([direction, scaled]), trace.cost)
    if grads is None:
        return matrix
    plain, weighted = grads.detach().double().reshape(2, size, -1)
    residue = (weighted - weights.view(-1, 1) * plain).norm(dim=1)
    spread = (weights.view(-1, 1) - weights.view(1, -1)).abs().max(dim=0).values
    scale = plain.norm(dim=1).max().clamp_min(torch.finfo(torch.float64).tiny)
    column = (residue / spread / scale).cpu()
    return torch.where(matrix.bool(), matrix, column.view(1, -1).expand(size, size))


def _spread(low: int, high: int, count: int) -> list[int]:
    """At most `count` evenly spaced integers from low to high inclusive."""
    return [low + i for i in evenly_spaced(high - low + 1, count)]


def _perturbed(inputs: torch.Tensor, axis: Axis, index: int) -> torch.Tensor:
    """The tokens with slice `index` changed: every id shifted by one within the observed id range."""
    low, high = int(inputs.min()), int(inputs.max())
    changed = inputs.clone()
    part = changed.select(axis.dim, index)
    part.copy_(low + (part - low + 1) % max(high - low + 1, 2))
    return changed


@dataclass(frozen=True)
class Plan:
    """Which output slices a causal/batch check measures: rows (one output index each) or cuts
    (every output up to t), or perturbed input columns when nothing can be differentiated."""

    kind: str  # "rows", "cuts", "columns" or "screen" (batch: every pair at once, see batch_screen)
    indices: list[int]
    alone: bool = False  # causal: each mask in a backward pass of its own, not striped across the examples

    def masks(self, size: int) -> torch.Tensor:
        index = torch.arange(size).view(1, -1)
        picked = torch.tensor(self.indices).view(-1, 1)
        return index <= picked if self.kind == "cuts" else index == picked


def plan_for(axis: Axis, args: DependencyRequest, trace: ForwardTrace) -> Plan:
    """Every example in batch mode (screened in two passes where possible); in causal mode the
    cheap cuts unless rows were asked for."""
    differentiable = trace.leaf is not None
    if axis.mode == "batch":
        kind = "screen" if screenable(trace, axis) else "rows" if differentiable else "columns"
        return Plan(kind, list(range(axis.size)))
    last = axis.size - 1
    cap = last if args.exhaustive else args.max_positions
    if not differentiable:
        return Plan("columns", _spread(1, last, cap or PERTURBED_COLUMNS))
    if cap is None:
        return Plan("cuts", _spread(0, last - 1, CUTS))
    return Plan("rows", _spread(0, last - 1, cap))


def dependence_matrix(
    ctx: JobContext, model: nn.Module, batch: Batch, trace: ForwardTrace, axis: Axis, plan: Plan
) -> torch.Tensor:
    """(output index, input index) -> dependence magnitude; NaN where not measured. A cut's
    row t holds the dependence of all outputs up to t on each input."""
    matrix = torch.full((axis.size, axis.size), float("nan"), dtype=torch.float64)
    if plan.kind != "columns":
        ctx.progress(0, 1, f"{axis.mode}: {len(plan.indices)} {plan.kind} in batched backward passes", force=True)
        if axis.mode == "causal":
            matrix[plan.indices] = striped(trace, axis, plan, ctx.seed)
        elif plan.kind == "screen":
            matrix[:] = batch_screen(trace, axis, ctx.seed)
        else:
            matrix[plan.indices] = masked_vjp_norms(trace, trace.output, axis, plan.masks(axis.size), ctx.seed)
        return matrix
    inputs = batch.inputs
    with torch.no_grad():
        reseed(ctx.seed)  # reseeded before every forward: code that samples (dropout) samples alike
        base = model_output(ctx, model, batch.value)
        for done, index in enumerate(plan.indices):
            reseed(ctx.seed)
            changed = model_output(ctx, model, batch.with_inputs(_perturbed(inputs, axis, index)))
            matrix[:, index] = (changed - base).movedim(axis.dim, 0).reshape(axis.size, -1).double().norm(dim=1).cpu()
            ctx.progress(done + 1, len(plan.indices), f"{axis.mode}: input {index}")
    trace.cost.forward_passes += 1 + len(plan.indices)
    return matrix


def _leaks(row: torch.Tensor, axis: Axis, out_index: int, in_index: int, threshold: float) -> bool:
    allowed = row[out_index] if axis.mode == "batch" else row[: out_index + 1].max()
    return bool(row[in_index] > threshold * allowed)  # with nothing allowed, any dependence leaks


def first_leaking_module(
    trace: ForwardTrace, axis: Axis, out_index: int, in_index: int, threshold: float, seed: int
) -> tuple[str, str] | None:
    """The first module (in execution order) whose output carries the leak while its inputs
    do not; else the first whose output carries it. Needs gradients, so not for perturbation."""
    seen: dict[int, bool] = {}
    probed = 0
    mask = Plan("rows", [out_index]).masks(axis.size)

    def leaks(tensor: torch.Tensor) -> bool:
        nonlocal probed
        if id(tensor) not in seen:
            fits = axis.fits(tensor) and probed < MAX_PROBED_TENSORS
            probed += fits
            row = masked_vjp_norms(trace, tensor, axis, mask, seed)[0] if fits else None
            seen[id(tensor)] = row is not None and _leaks(row, axis, out_index, in_index, threshold)
        return seen[id(tensor)]

    carrier = None
    for name, kind, module_inputs, module_outputs in trace.calls:
        if any(leaks(t) for t in module_outputs):
            if not any(leaks(t) for t in module_inputs):
                return name, kind
            carrier = carrier or (name, kind)
    return carrier


def judge(matrix: torch.Tensor, axis: Axis, threshold: float) -> dict[str, Any]:
    """Relative dependence (to the largest allowed one) on forbidden pairs, and the leaks."""
    measured = ~matrix.isnan()
    forbidden = axis.forbidden()
    allowed = matrix[measured & ~forbidden]
    scale = float(allowed.max()) if allowed.numel() and float(allowed.max()) > 0 else 1.0
    relative = matrix / scale
    leaking = measured & forbidden & (relative > threshold)
    pairs = sorted(
        (
            {"output_index": int(o), "input_index": int(i), "relative": float(relative[o, i])}
            for o, i in leaking.nonzero()
        ),
        key=lambda pair: -pair["relative"],
    )
    checked_outputs = sorted({int(o) for o, _ in (measured & forbidden).nonzero()})
    off_pattern = relative[measured & forbidden]
    return {
        "checked": checked_outputs,
        "checked_pairs": int((measured & forbidden).sum()),
        "leaking_pairs": len(pairs),
        "max_relative": float(off_pattern.max()) if off_pattern.numel() else None,
        "worst": pairs[:WORST_SHOWN],
        "affected": sorted({pair["output_index"] for pair in pairs}),
        "relative": relative,
    }


def covered_pairs(plan: Plan, size: int) -> tuple[int, int]:
    """(forbidden (t, t' > t) pairs a causal plan rules out, all such pairs). A cut at c covers
    (t, t') when t <= c < t'; a row covers its own; a perturbed column t' covers every (t, t').
    Counted, not drawn: a (T, T) mask per cut cost a quarter of a pass at 1M parameters, T=128."""
    indices = sorted(set(plan.indices))
    if plan.kind == "rows":
        covered = sum(size - 1 - row for row in indices)
    elif plan.kind == "columns":
        covered = sum(indices)  # column t' covers (t, t') for each t < t'
    else:  # output t is covered beyond the first cut at or after it
        firsts = (bisect.bisect_left(indices, t) for t in range(size))
        covered = sum(size - 1 - indices[k] for k in firsts if k < len(indices))
    return covered, size * (size - 1) // 2


SCREEN_NOTE = (
    "every example pair was screened at once (two backward passes, example i weighted 2**i); only leaks that "
    "cancel each other exactly across examples could hide"
)
BATCH_CAUSES = (
    "for a mean/var/softmax/sum over dim 0 (the batch), or a view/reshape that should be a transpose/permute "
    "(between (B, T, C) and (T, B, C) layouts, or when splitting and merging heads)."
)


def _leak_message(axis: Axis, verdict: dict[str, Any], module: tuple[str, str] | None) -> str:
    worst = verdict["worst"][0]
    if axis.mode == "batch":
        pair = f"the output of example {worst['output_index']} depends on the input of example {worst['input_index']}"
        count = "example pairs leak, in output example(s)"
    else:
        pair = (
            f"the output at position {worst['output_index']} depends on the input at later position "
            f"{worst['input_index']}"
        )
        count = "(position, later position) pairs leak, at output position(s)"
    message = (
        f"{pair} (relative dependence {worst['relative']:.3g}); {verdict['leaking_pairs']} of "
        f"{verdict['checked_pairs']} {count} {verdict['affected'][:20]}"
    )
    clean = [i for i in verdict["checked"] if i not in verdict["affected"]]
    if axis.mode == "batch" and clean:
        message += f"; example(s) {clean[:20]} look clean, so checking one example alone can miss this"
    return message + (f"; it first appears in `{module[0]}` ({module[1]})" if module else "")


def _leak_finding(
    axis: Axis, verdict: dict[str, Any], module: tuple[str, str] | None, trace: ForwardTrace, extra: dict[str, Any]
) -> dict[str, Any]:
    """batch_dependence, or future_leakage with its causes ranked by the pattern and the attention calls."""
    where = module[0] if module else None
    evidence = {key: verdict[key] for key in ("worst", "leaking_pairs", "checked_pairs", "affected")}
    evidence["method"] = trace.method
    message = _leak_message(axis, verdict, module)
    if axis.mode == "batch":
        suggestion = f"Look in `{where or 'the model'}` {BATCH_CAUSES}"
        return finding("batch_dependence", ERROR, message, where=where, evidence=evidence, suggestion=suggestion)
    suggestion = causes.suggestion(extra["likely_causes"], where or "the model")
    severity = ERROR
    if extra["likely_causes"][0] == "encoder_by_design":  # a correct encoder checked as if it were a decoder
        severity, message = (
            INFO,
            f"{message}; the batch shows an encoder ({extra['encoder']}), which is meant to see both sides",
        )
    return finding("future_leakage", severity, message, where=where, evidence=evidence | extra, suggestion=suggestion)


def _unshifted_finding(inputs: torch.Tensor) -> dict[str, Any]:
    return finding(
        "future_leakage",
        ERROR,
        f"the targets equal the inputs at every scored position (shape {tuple(inputs.shape)}): the model is trained "
        "to output the token it is reading, not the next one, so the loss falls to ~0 with no leak in the model",
        where="get_batch",
        evidence={"targets_equal_inputs": True},
        suggestion=f"{causes.CAUSES['targets_unshifted']}. After fixing, call check_dependencies with "
        "mode='causal' again.",
    )


def _check_shapes(inputs: torch.Tensor, output: torch.Tensor, axis: Axis) -> None:
    if axis.mode == "batch" and axis.size < 2:
        raise HarnessError("batch mode needs at least 2 examples, but get_batch returned 1", where="get_batch")
    if not axis.fits(output):
        what = "examples (dim 0)" if axis.mode == "batch" else f"positions at seq_dim={axis.dim}"
        raise HarnessError(
            f"the input has {axis.size} {what} (shape {tuple(inputs.shape)}) but the output has shape "
            f"{tuple(output.shape)}: {axis.mode} mode needs an output with the same {what}. "
            + (
                "Pass the right seq_dim (and `input`: the decoder's tokens of an encoder-decoder), or use mode='batch' "
                "for a model that outputs one vector per sequence."
                if axis.mode == "causal"
                else "The model must return one output per example."
            ),
            where="build_model",
        )


def _axes(args: DependencyRequest, batch: Batch, output: torch.Tensor) -> tuple[list[Axis], list[dict]]:
    """The axes the mode asks for, and info findings for those that do not apply: the batch axis of one graph
    (its rows are nodes that interact by design), the causal half of mode 'both' on a model without positions
    (an MLP, a policy, a GAN's generator: the gauntlet's generic call then checks the batch axis alone)."""
    axes, skipped = [], []
    inputs = batch.inputs
    if args.mode in ("batch", "both"):
        matrix = interaction_matrix(batch.value, inputs.shape[0])
        if matrix is None:
            axes.append(Axis("batch", 0, inputs.shape[0]))
        else:
            skipped.append(_rows_interact(matrix, inputs.shape[0]))
    if args.mode in ("causal", "both"):
        seq_dim = args.seq_dim
        positions = inputs.shape[seq_dim] if inputs.dim() > seq_dim else 0
        causal = Axis("causal", seq_dim, positions)
        # A 2-D float input is one feature vector per example (a flow's coordinates, an MLP's features), not a
        # sequence: the generic call leaves it alone; mode='causal' still checks a sequence of scalars.
        features = inputs.dim() == 2 and inputs.is_floating_point()
        if args.mode == "both" and (features or positions < 2 or not causal.fits(output)):
            return axes, [*skipped, _no_positions(seq_dim, inputs, output, batch_ran=bool(axes))]
        if positions < 2:
            raise HarnessError(
                f"causal mode needs a sequence of 2 or more positions at seq_dim={seq_dim}, but the input has "
                f"shape {tuple(inputs.shape)}; pass the dimension that indexes positions as seq_dim",
                where="get_batch",
            )
        axes.append(causal)
    return axes, skipped


def _rows_interact(matrix: str, rows: int) -> dict:
    return finding(
        "rows_interact",
        INFO,
        f"the batch holds {matrix} ({rows}, {rows}) over its {rows} rows: they are one graph's nodes (or a set) "
        "that the model mixes by design, so their independence was not checked",
        where=matrix,
        evidence={"matrix": matrix, "rows": rows},
        suggestion="Nothing to fix for message passing. To test the mixing itself, check the propagation "
        "(normalisation, self-loops) with check_known_values on a hand-worked 3-node graph.",
    )


def _no_positions(seq_dim: int, inputs: torch.Tensor, output: torch.Tensor, batch_ran: bool) -> dict:
    return finding(
        "causal_not_applicable",
        INFO,
        f"no sequence at seq_dim={seq_dim} (input {tuple(inputs.shape)} {str(inputs.dtype).removeprefix('torch.')}, "
        f"output {tuple(output.shape)}): the causal half of mode='both' does not apply to this model and was "
        + ("skipped; the batch half ran" if batch_ran else "skipped"),
        where="get_batch",
        evidence={"seq_dim": seq_dim, "input_shape": list(inputs.shape), "output_shape": list(output.shape)},
        suggestion="Nothing to fix for a model without positions. For a sequence model, pass the dimension that "
        "indexes positions as seq_dim (and `input`: the decoder's tokens of an encoder-decoder); for a sequence "
        "of scalars (B, T), call mode='causal'.",
    )


def _coverage(axis: Axis, plan: Plan) -> dict[str, Any]:
    """What a causal plan checked, and what it leaves open (for cuts: leaks inside one gap)."""
    if axis.mode == "batch":
        note = SCREEN_NOTE if plan.kind == "screen" else None
        return {"plan": plan.kind, "probes": plan.indices, "not_ruled_out": note}
    covered, total = covered_pairs(plan, axis.size)
    open_note = None
    if covered < total:
        gaps = [(a + 1, b) for a, b in zip([-1, *plan.indices], [*plan.indices, axis.size - 1]) if b - a > 1]
        open_note = (
            f"{total - covered} of {total} (position, later position) pairs were not checked"
            + (
                f": a leak confined to positions inside one gap between cuts {gaps[:6]} (e.g. only position "
                f"{gaps[0][0]} seeing {gaps[0][0] + 1})"
                if plan.kind == "cuts" and gaps
                else ""
            )
            + f"; exhaustive=true checks all {axis.size - 1} positions"
        )
    return {
        "plan": plan.kind,
        "probes": plan.indices,
        "covered_pairs": covered,
        "total_pairs": total,
        "not_ruled_out": open_note,
    }


def _diagnose(
    ctx: JobContext,
    model: nn.Module,
    batch: Batch,
    trace: ForwardTrace,
    axis: Axis,
    threshold: float,
    verdict: dict,
    plan: Plan,
    roles: Roles,
):
    """After a causal leak: rows (one output position each) for the exact pairs and the pattern; the ranked causes."""
    if plan.kind == "cuts":
        rows = Plan("rows", _spread(0, axis.size - 2, DIAGNOSTIC_ROWS))
        by_rows = judge(dependence_matrix(ctx, model, batch, trace, axis, rows), axis, threshold)
        verdict = by_rows if by_rows["leaking_pairs"] else verdict  # else the leak sits between the diagnostic rows
    shape = causes.pattern(verdict["relative"], threshold) if plan.kind != "columns" else {}
    unshifted = causes.targets_unshifted(batch.inputs, targets_of(batch.value), ctx.harness.ignore_index)
    extra = {
        "pattern": shape,
        "attention_calls": causes.attention_summary(trace.attention),
        "likely_causes": causes.rank(shape, trace.attention, unshifted, roles.attention == "bidirectional"),
    }
    if roles.attention == "bidirectional":
        extra["encoder"] = roles.why["attention"]
    return verdict, extra


def confirmed_alone(
    ctx: JobContext,
    model: nn.Module,
    batch: Batch,
    trace: ForwardTrace,
    axis: Axis,
    threshold: float,
    plan: Plan,
    verdict: dict,
) -> bool:
    """Whether a causal leak seen with masks striped across examples is still there with each mask alone
    (a few of the leaking ones, one backward pass each); if not, it crossed examples, not time."""
    if plan.kind == "columns" or trace.output.shape[0] < 2:
        return True
    affected = verdict["affected"]
    picked = [affected[i] for i in _spread(0, len(affected) - 1, CONFIRMED)]
    alone = Plan(plan.kind, sorted(set(picked)), alone=True)
    return bool(judge(dependence_matrix(ctx, model, batch, trace, axis, alone), axis, threshold)["leaking_pairs"])


def _crossed_examples(axis: Axis, verdict: dict[str, Any]) -> dict[str, Any]:
    """batch_dependence for what the causal check saw only with its masks striped across examples."""
    worst = verdict["worst"][0]
    message = (
        f"outputs depend on other examples' inputs: with one causal mask per example in a pass, position "
        f"{worst['input_index']} reached output position {worst['output_index']}, and with each mask alone it did not"
    )
    suggestion = f'Call check_dependencies with mode="batch" to name the example pairs, and look {BATCH_CAUSES}'
    return finding("batch_dependence", ERROR, message, evidence={"worst": verdict["worst"]}, suggestion=suggestion)


def _check_axis(
    ctx: JobContext, model: nn.Module, batch: Batch, trace: ForwardTrace, axis: Axis, threshold: float, roles: Roles
):
    """Measure, judge and localise along one axis: (finding or None, details, summary line, full matrix)."""
    _check_shapes(batch.inputs, trace.output, axis)
    plan = plan_for(axis, ctx.req, trace)
    verdict = judge(dependence_matrix(ctx, model, batch, trace, axis, plan), axis, threshold)
    if verdict["leaking_pairs"] and plan.kind == "screen":  # some example leaks: measure each one's own gradient
        plan = Plan("rows", plan.indices)
        verdict = judge(dependence_matrix(ctx, model, batch, trace, axis, plan), axis, threshold)
    if axis.mode == "causal" and verdict["leaking_pairs"]:
        # striped masks share a pass across examples: a leak that vanishes with each mask alone crosses examples
        if not confirmed_alone(ctx, model, batch, trace, axis, threshold, plan, verdict):
            return _crossed_result(axis, plan, verdict)
    module, found, full, extra = None, None, None, {}
    if verdict["max_relative"] is None:  # every forbidden pair came out NaN: nothing to judge, never "clean"
        found = _unmeasured_finding(axis)
    elif verdict["leaking_pairs"]:
        if axis.mode == "causal":
            verdict, extra = _diagnose(ctx, model, batch, trace, axis, threshold, verdict, plan, roles)
        worst = verdict["worst"][0]
        if trace.leaf is not None:
            module = first_leaking_module(trace, axis, worst["output_index"], worst["input_index"], threshold, ctx.seed)
        found = _leak_finding(axis, verdict, module, trace, extra)
        full = _measured_rows(verdict)
    details = AxisResult(
        checked=verdict["checked"][:64],
        checked_pairs=verdict["checked_pairs"],
        leaking_pairs=verdict["leaking_pairs"],
        max_relative=verdict["max_relative"],
        worst=[LeakPair(**pair) for pair in verdict["worst"]],
        affected=verdict["affected"],
        first_module=module[0] if module else None,
        **_coverage(axis, plan),
        **extra,
    )
    return found, details, _mode_summary(axis, verdict, details), full


def _crossed_result(axis: Axis, plan: Plan, verdict: dict[str, Any]):
    """_check_axis's answer when the causal leak came only from other examples: no future leak is reported."""
    details = AxisResult(
        **_coverage(axis, plan),
        checked=verdict["checked"][:64],
        checked_pairs=verdict["checked_pairs"],
        leaking_pairs=0,
    )
    return (
        _crossed_examples(axis, verdict),
        details,
        "causal: no future leak; outputs depend on other examples",
        None,
    )


def _measured_rows(verdict: dict[str, Any]) -> dict[str, list[float | None]]:
    """The relative dependence matrix by output row, 3 significant digits; rows never measured (all NaN) left out."""
    return {
        str(index): [None if v != v else significant(v, 3) for v in row]  # v != v: NaN, an unmeasured pair
        for index, row in enumerate(verdict["relative"].tolist())
        if any(v == v for v in row)
    }


def _unmeasured_finding(axis: Axis) -> dict[str, Any]:
    message = (
        f"{axis.mode}: nothing measured: the dependence of the output on other "
        f"{'examples' if axis.mode == 'batch' else 'positions'} came out NaN for every pair (a non-finite backward)"
    )
    suggestion = "Call gradient_check to find the non-finite gradient, fix it, then call check_dependencies again."
    return finding("nothing_measured", WARNING, message, suggestion=suggestion)


def _mode_summary(axis: Axis, verdict: dict[str, Any], details: AxisResult) -> str:
    noun = "example(s)" if axis.mode == "batch" else "position(s)"
    if verdict["max_relative"] is None:
        return f"{axis.mode}: nothing measured (NaN dependence)"
    if verdict["leaking_pairs"]:
        return f"{axis.mode}: LEAK in {len(verdict['affected'])} {noun}"
    if details.plan == "cuts" and details.covered_pairs < details.total_pairs:
        return (
            f"{axis.mode}: clean, largest forbidden dependence {verdict['max_relative']:.2g} at {len(details.probes)} "
            f"cuts {details.probes} ({details.covered_pairs} of {details.total_pairs} pairs; a leak confined "
            "to one gap between cuts is not ruled out: exhaustive=true)"
        )
    checked = f"{len(verdict['checked'])} of {axis.size - (axis.mode == 'causal')} {noun} checked"
    return f"{axis.mode}: clean, largest forbidden dependence {verdict['max_relative']:.2g} ({checked})"


def _position(ctx: JobContext, model: nn.Module, batch: Batch, cost: Cost):
    """Mode "position": forward passes only, with the shuffled input swapped into the batch; every
    module's output is kept too, to see which layer first tells the order. On the first example:
    order is a property of the model, not of the example, and the passes cost 1/B."""

    def runner(checked: Batch):
        def run_on(inputs: torch.Tensor) -> tuple[torch.Tensor, list[tuple[str, str, torch.Tensor]]]:
            layers: list[tuple[str, str, torch.Tensor]] = []

            def hook(name: str):
                def record(module: nn.Module, args: tuple, output: Any) -> None:
                    if isinstance(output, torch.Tensor) and output.is_floating_point():
                        layers.append((name or "<model>", type(module).__name__, output.detach()))

                return record

            handles = [module.register_forward_hook(hook(name)) for name, module in model.named_modules()]
            cost.forward_passes += 1
            reseed(ctx.seed)  # code that samples (dropout) samples alike in every pass
            try:
                return model_output(ctx, model, checked.with_inputs(inputs)).detach(), layers
            finally:
                for handle in handles:
                    handle.remove()

        return run_on

    one = batch.first_example()
    with torch.no_grad():
        try:
            return check_positions(runner(one), one.inputs, ctx.req.seq_dim, ctx.seed)
        except HarnessError:
            raise
        except Exception:  # a model that cannot run one example (a squeeze on dim 0): the whole batch
            return check_positions(runner(batch), batch.inputs, ctx.req.seq_dim, ctx.seed)


def _implied_axes(ctx: JobContext, inputs: torch.Tensor, trace: ForwardTrace, roles: Roles) -> list[Axis]:
    """The default mode checks a batch that shows a causal LM for future leaks too (the 4 cuts: one backward)."""
    seq_dim = ctx.req.seq_dim
    if ctx.req.mode != "batch" or roles.attention != "causal":
        return []
    axis = Axis("causal", seq_dim, inputs.shape[seq_dim]) if inputs.dim() > seq_dim else None
    return [axis] if axis is not None and axis.size >= 2 and axis.fits(trace.output) else []


def mechanism_probes(
    ctx: JobContext, model: nn.Module, batch: Batch, trace: ForwardTrace, roles: Roles, threshold: float
):
    """(findings, results) of the probes on the model's inputs (dependencies_mechanisms) and on the loss
    (dependencies_loss)."""
    found, results = mechanisms.probe(ctx, model, batch, trace, roles, threshold)
    on_loss, measured = loss_probes.probe(ctx, model, batch.value, batch.key, threshold, trace.cost)
    return found + on_loss, results + measured


def _dependence(
    ctx: JobContext, model: nn.Module, batch: Batch, roles: Roles
) -> tuple[list, dict[str, Any], list[str], dict, ForwardTrace]:
    """Modes batch / causal / both: (findings, details per axis and how they were measured, summary lines, full
    matrices, the trace); batch and both run the mechanism probes the batch's roles call for."""
    details: dict[str, Any] = {}
    summaries: list[str] = []
    full: dict[str, Any] = {}
    with torch.enable_grad():
        trace = _trace(ctx, model, batch)
        axes, findings = _axes(ctx.req, batch, trace.output)
        threshold = THRESHOLD
        if trace.leaf is None and trace.output.dtype.is_floating_point:
            threshold = max(THRESHOLD, EPS_FACTOR * torch.finfo(trace.output.dtype).eps)
        for axis in axes + _implied_axes(ctx, batch.inputs, trace, roles):
            found, details[axis.mode], line, full[axis.mode] = _check_axis(
                ctx, model, batch, trace, axis, threshold, roles
            )
            findings += [found] if found else []
            summaries.append(line)
        if ctx.req.mode in ("batch", "both"):
            found, details["mechanisms"] = mechanism_probes(ctx, model, batch, trace, roles, threshold)
            findings += found
            summaries += mechanisms.summary(details["mechanisms"])
    if "causal" in details and causes.targets_unshifted(
        batch.inputs, targets_of(batch.value), ctx.harness.ignore_index
    ):
        findings.append(_unshifted_finding(batch.inputs))
    details |= {"method": trace.method, "output_shape": list(trace.output.shape), "threshold": threshold}
    return findings, details, summaries, {m: v for m, v in full.items() if v is not None}, trace


def run(ctx: JobContext[DependencyRequest]) -> dict[str, Any]:
    started = time.perf_counter()
    model = ctx.build_model()
    value = ctx.batch(ctx.req.batch_size, "train")
    batch = Batch(value, _input_key(value, ctx.req.input, guess=ctx.req.mode == "batch"))
    roles = roles_of(ctx, value, batch.key)  # a bad batch_roles declaration fails here, before any work
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        if ctx.req.mode == "position":
            cost = _nothing_spent()
            found, position, line = _position(ctx, model, batch, cost)
            findings, summaries = [found] if found else [], [line]
            full: dict[str, Any] = {}
            details = {"position": position, "method": "shuffled positions, forward passes only"}
        else:
            findings, details, summaries, full, trace = _dependence(ctx, model, batch, roles)
            cost = trace.cost
    finally:
        for module, training in modes.items():
            module.training = training
    cost.seconds = round(time.perf_counter() - started, 3)
    checked = DependencyDetails(
        **details, input_shape=list(batch.inputs.shape), input=batch.key, cost=cost, roles=roles.described()
    )
    findings = sort_findings(findings)  # the summary quotes the most severe first
    if findings:
        summary = f"{findings[0]['message']}. " + "; ".join(summaries) + "."
    else:
        summary = "No dependence problem: " + "; ".join(summaries) + f" ({checked.method}, model in eval mode)."
    result = {"summary": summary, "findings": findings, "details": asdict(checked)}
    if full:
        result["full_report"] = {
            "relative_dependence": full,
            "layout": "per mode, {output index: [relative dependence on input index 0, 1, ...]}; null = not measured; "
            "a causal cut's row t holds every output up to t",
        }
    return result
