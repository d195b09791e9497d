"""check_dependencies, worker side: does example i's output depend on example j's input,
or the output at position t on inputs after t?

Method: backpropagate one output slice (example i, or position t) projected on a fixed
random direction, and read the input gradient of every example or position at once: one
backward pass gives a whole row of the dependence matrix. The random direction matters:
a plain sum can cancel (the outputs of a softmax sum to 1, so their sum has no gradient).
Token ids cannot be differentiated, so the gradient is taken at the output of the
embedding that reads them; a model with no such embedding gets its tokens perturbed
instead, one example or position at a time, and the change of every output is measured.

The model runs in eval mode: BatchNorm couples the examples of a training batch on
purpose, and that is not a bug. A correct model gives exact zeros off the allowed
pattern; anything above a small relative threshold is a leak, localised to the first
module whose output carries it while its inputs do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .failures import HarnessError
from .findings import ERROR, finding
from .harness import inputs_of
from .job import JobContext

# Relative dependence counted as a leak. Gradients through a correct model are exact zeros
# off the allowed pattern; a real leak measured 0.05-0.6 on the fixtures, and shrinks like
# 1/T for one future position out of T (0.007 at T=128), so the bar sits far below that.
THRESHOLD = 1e-6
EPS_FACTOR = 10  # perturbation compares two forwards: allow ten machine epsilons of the output dtype
WORST_SHOWN = 8  # offending pairs listed in details and evidence
MAX_PROBED_TENSORS = 400  # module inputs/outputs probed (one backward each) to localise a leak


@dataclass(frozen=True)
class Axis:
    """What dependence is measured along: examples (dim 0) or positions (seq_dim)."""

    mode: str  # "batch" or "causal"
    dim: int
    size: int

    def forbidden(self) -> torch.Tensor:
        """(size, size) mask over (output index, input index) pairs that must not depend."""
        out_index = torch.arange(self.size).view(-1, 1)
        in_index = torch.arange(self.size).view(1, -1)
        return in_index != out_index if self.mode == "batch" else in_index > out_index

    def fits(self, tensor: torch.Tensor) -> bool:
        return tensor.dim() > self.dim and tensor.shape[self.dim] == self.size


@dataclass
class Trace:
    """One forward pass in eval mode, with what is needed to differentiate it."""

    output: torch.Tensor
    leaf: torch.Tensor | None  # differentiated tensor: the float inputs or the embedding output
    method: str
    # (module name, module type, input tensors, output tensors), in the order the hooks fired
    calls: list[tuple[str, str, list[torch.Tensor], list[torch.Tensor]]] = field(default_factory=list)


def _tensors(value: Any) -> list[torch.Tensor]:
    items = value if isinstance(value, (tuple, list)) else [value]
    return [t for t in items if isinstance(t, torch.Tensor) and t.is_floating_point() and t.requires_grad]


def output_tensor(output: Any) -> torch.Tensor:
    """The model's prediction: the output itself, the first tensor of a tuple, or `logits`."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    if isinstance(output, dict):
        for key in ("logits", "output", "out"):
            if isinstance(output.get(key), torch.Tensor):
                return output[key]
    raise HarnessError(
        f"the model returned {type(output).__name__}; check_dependencies needs a tensor, a tuple starting "
        "with one, or a dict with a 'logits' key",
        where="build_model",
    )


def _trace(model: nn.Module, inputs: torch.Tensor) -> Trace:
    """Run the model once, recording every module's tensors; token ids get their
    embedding output swapped for a leaf we can differentiate."""
    trace = Trace(output=inputs, leaf=None, method="")

    def hook(name: str):
        def record(module: nn.Module, args: tuple, output: Any) -> Any:
            reads_tokens = args and isinstance(args[0], torch.Tensor) and args[0].shape == inputs.shape
            if trace.leaf is None and isinstance(module, nn.Embedding) and reads_tokens and torch.equal(args[0], inputs):
                output = trace.leaf = output.detach().requires_grad_()
                trace.method = f"gradient at the output of embedding `{name}`"
            trace.calls.append((name or "<model>", type(module).__name__, _tensors(args), _tensors(output)))
            return output

        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in model.named_modules()]
    try:
        if inputs.is_floating_point():
            trace.leaf = inputs.detach().clone().requires_grad_()
            trace.method = "gradient with respect to the inputs"
            trace.output = output_tensor(model(trace.leaf))
        else:
            trace.output = output_tensor(model(inputs))
            if trace.leaf is None:
                trace.method = "token perturbation (no nn.Embedding reads the token ids)"
    finally:
        for handle in handles:
            handle.remove()
    return trace


def _direction(tensor: torch.Tensor, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(tensor.shape, generator=generator).to(device=tensor.device, dtype=tensor.dtype)


def _row(tensor: torch.Tensor, direction: torch.Tensor, leaf: torch.Tensor, axis: Axis, index: int) -> torch.Tensor:
    """How strongly slice `index` of `tensor` depends on each slice of `leaf` (norms of the gradient)."""
    picked = (tensor.select(axis.dim, index) * direction.select(axis.dim, index)).sum()
    grad = None
    if picked.requires_grad:
        (grad,) = torch.autograd.grad(picked, leaf, retain_graph=True, allow_unused=True)
    if grad is None:
        return torch.zeros(axis.size, dtype=torch.float64)
    return grad.detach().movedim(axis.dim, 0).reshape(axis.size, -1).double().norm(dim=1).cpu()


def _spread(low: int, high: int, count: int) -> list[int]:
    """At most `count` evenly spaced integers from low to high inclusive."""
    if high - low + 1 <= count:
        return list(range(low, high + 1))
    return sorted({round(low + i * (high - low) / (count - 1)) for i in range(count)}) if count > 1 else [low]


def _perturbed(inputs: torch.Tensor, axis: Axis, index: int) -> torch.Tensor:
    """The tokens with slice `index` changed: every id shifted by one within the observed id range."""
    low, high = int(inputs.min()), int(inputs.max())
    changed = inputs.clone()
    part = changed.select(axis.dim, index)
    part.copy_(low + (part - low + 1) % max(high - low + 1, 2))
    return changed


def dependence_matrix(
    ctx: JobContext, model: nn.Module, inputs: torch.Tensor, trace: Trace, axis: Axis, cap: int
) -> torch.Tensor:
    """(output index, input index) -> dependence magnitude; NaN where not measured."""
    matrix = torch.full((axis.size, axis.size), float("nan"), dtype=torch.float64)
    last = axis.size - 1
    if trace.leaf is not None:  # rows: one backward per output index
        rows = range(axis.size) if axis.mode == "batch" else _spread(0, last - 1, cap)
        direction = _direction(trace.output, ctx.seed)
        for done, index in enumerate(rows):
            matrix[index] = _row(trace.output, direction, trace.leaf, axis, index)
            ctx.progress(done + 1, len(rows), f"{axis.mode}: output {index}")
        return matrix
    columns = range(axis.size) if axis.mode == "batch" else _spread(1, last, cap)  # one forward per input index
    with torch.no_grad():
        torch.manual_seed(ctx.seed)  # reseeded before every forward: code that samples (dropout) samples alike
        base = output_tensor(model(inputs))
        for done, index in enumerate(columns):
            torch.manual_seed(ctx.seed)
            changed = output_tensor(model(_perturbed(inputs, axis, index)))
            matrix[:, index] = (changed - base).movedim(axis.dim, 0).reshape(axis.size, -1).double().norm(dim=1).cpu()
            ctx.progress(done + 1, len(columns), f"{axis.mode}: input {index}")
    return matrix


def _leaks(row: torch.Tensor, axis: Axis, out_index: int, in_index: int, threshold: float) -> bool:
    allowed = row[out_index] if axis.mode == "batch" else row[: out_index + 1].max()
    return bool(row[in_index] > threshold * allowed)  # with nothing allowed, any dependence leaks


def first_leaking_module(
    trace: Trace, axis: Axis, out_index: int, in_index: int, threshold: float, seed: int
) -> tuple[str, str] | None:
    """The first module (in execution order) whose output carries the leak while its inputs
    do not; else the first whose output carries it. Needs gradients, so not for perturbation."""
    seen: dict[int, bool] = {}
    probed = 0

    def leaks(tensor: torch.Tensor) -> bool:
        nonlocal probed
        if id(tensor) not in seen:
            fits = axis.fits(tensor) and probed < MAX_PROBED_TENSORS
            probed += fits
            row = _row(tensor, _direction(tensor, seed), trace.leaf, axis, out_index) if fits else None
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
        ({"output_index": int(o), "input_index": int(i), "relative": float(relative[o, i])} for o, i in leaking.nonzero()),
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


# Per mode: finding code, how a pair reads, and where such leaks usually come from.
_LEAK_WORDS = {
    "batch": (
        "batch_dependence",
        "the output of example {o} depends on the input of example {i}",
        "example pairs leak, in output example(s)",
        "for a mean/var/softmax/sum over dim 0 (the batch), or a view/reshape that should be a transpose/permute "
        "(between (B, T, C) and (T, B, C) layouts, or when splitting and merging heads).",
    ),
    "causal": (
        "future_leakage",
        "the output at position {o} depends on the input at later position {i}",
        "(position, later position) pairs leak, at output position(s)",
        "for a missing or off-by-one causal mask (mask the scores with torch.triu(ones(T, T), diagonal=1) to -inf "
        "before the softmax), a mean/sum over the whole sequence, a bidirectional RNN or a convolution padded on both sides.",
    ),
}


def _leak_finding(axis: Axis, verdict: dict[str, Any], module: tuple[str, str] | None, method: str) -> dict[str, Any]:
    code, pair_words, count_words, causes = _LEAK_WORDS[axis.mode]
    worst = verdict["worst"][0]
    message = (
        pair_words.format(o=worst["output_index"], i=worst["input_index"])
        + f" (relative dependence {worst['relative']:.3g}); {verdict['leaking_pairs']} of {verdict['checked_pairs']} "
        + f"{count_words} {verdict['affected'][:20]}"
    )
    clean = [i for i in verdict["checked"] if i not in verdict["affected"]]
    if axis.mode == "batch" and clean:
        message += f"; example(s) {clean[:20]} look clean, so checking one example alone can miss this"
    if module:
        message += f"; it first appears in `{module[0]}` ({module[1]})"
    evidence = {key: verdict[key] for key in ("worst", "leaking_pairs", "checked_pairs", "affected")}
    return finding(
        code,
        ERROR,
        message,
        where=module[0] if module else None,
        evidence={**evidence, "method": method},
        suggestion=f"Look in `{module[0] if module else 'the model'}` {causes}",
    )


def _check_shapes(inputs: torch.Tensor, output: torch.Tensor, axis: Axis) -> None:
    if axis.mode == "batch" and axis.size < 2:
        raise HarnessError("batch mode needs at least 2 examples, but get_batch returned 1", where="get_batch")
    if not axis.fits(output):
        what = "examples (dim 0)" if axis.mode == "batch" else f"positions at seq_dim={axis.dim}"
        raise HarnessError(
            f"the input has {axis.size} {what} (shape {tuple(inputs.shape)}) but the output has shape "
            f"{tuple(output.shape)}: {axis.mode} mode needs an output with the same {what}. "
            + ("Pass the right seq_dim, or use mode='batch' for a model that outputs one vector per sequence."
               if axis.mode == "causal" else "The model must return one output per example."),
            where="build_model",
        )


def _axes(args: dict[str, Any], inputs: torch.Tensor) -> list[Axis]:
    axes = []
    if args["mode"] in ("batch", "both"):
        axes.append(Axis("batch", 0, inputs.shape[0]))
    if args["mode"] in ("causal", "both"):
        seq_dim = args["seq_dim"]
        if inputs.dim() <= seq_dim or inputs.shape[seq_dim] < 2:
            raise HarnessError(
                f"causal mode needs a sequence of 2 or more positions at seq_dim={seq_dim}, but the input has "
                f"shape {tuple(inputs.shape)}; pass the dimension that indexes positions as seq_dim",
                where="get_batch",
            )
        axes.append(Axis("causal", seq_dim, inputs.shape[seq_dim]))
    return axes


def _mode_summary(axis: Axis, verdict: dict[str, Any], cap_hit: bool) -> str:
    noun = "example(s)" if axis.mode == "batch" else "position(s)"
    checked = f"{len(verdict['checked'])} of {axis.size - (axis.mode == 'causal')} {noun} checked"
    if verdict["leaking_pairs"]:
        return f"{axis.mode}: LEAK in {len(verdict['affected'])} {noun} ({checked})"
    extra = f"; max_positions={len(verdict['checked'])} capped it" if cap_hit else ""
    return f"{axis.mode}: clean, largest forbidden dependence {verdict['max_relative']:.2g} ({checked}{extra})"


def _check_axis(ctx: JobContext, model: nn.Module, inputs: torch.Tensor, trace: Trace, axis: Axis, threshold: float):
    """Measure, judge and localise along one axis: (finding or None, details, summary line, full matrix)."""
    _check_shapes(inputs, trace.output, axis)
    cap = ctx.args["max_positions"]
    verdict = judge(dependence_matrix(ctx, model, inputs, trace, axis, cap), axis, threshold)
    module, found, full = None, None, None
    if verdict["leaking_pairs"]:
        worst = verdict["worst"][0]
        if trace.leaf is not None:
            module = first_leaking_module(trace, axis, worst["output_index"], worst["input_index"], threshold, ctx.seed)
        found = _leak_finding(axis, verdict, module, trace.method)
        full = {  # measured rows only: a long sequence is checked at max_positions rows
            str(index): [None if v != v else float(f"{v:.3g}") for v in row]
            for index, row in enumerate(verdict["relative"].tolist())
            if any(v == v for v in row)
        }
    details = {key: verdict[key] for key in ("checked_pairs", "leaking_pairs", "max_relative", "worst", "affected")}
    details |= {"checked": verdict["checked"][:64], "first_module": module[0] if module else None}
    cap_hit = axis.mode == "causal" and axis.size - 1 > cap
    return found, details, _mode_summary(axis, verdict, cap_hit), full


def run(ctx: JobContext) -> dict[str, Any]:
    model = ctx.build_model()
    inputs = inputs_of(ctx.batch(ctx.args["batch_size"], "train"))
    axes = _axes(ctx.args, inputs)
    modes = {module: module.training for module in model.modules()}
    model.eval()
    findings, details, summaries, full = [], {}, [], {}
    try:
        with torch.enable_grad():
            trace = _trace(model, inputs)
            threshold = THRESHOLD
            if trace.leaf is None and trace.output.dtype.is_floating_point:
                threshold = max(THRESHOLD, EPS_FACTOR * torch.finfo(trace.output.dtype).eps)
            for axis in axes:
                found, details[axis.mode], line, full[axis.mode] = _check_axis(ctx, model, inputs, trace, axis, threshold)
                findings += [found] if found else []
                summaries.append(line)
    finally:
        for module, training in modes.items():
            module.training = training
    if findings:
        summary = f"{findings[0]['message']}. " + "; ".join(summaries) + "."
    else:
        summary = "No dependence leak: " + "; ".join(summaries) + f" ({trace.method}, model in eval mode)."
    result = {
        "summary": summary,
        "findings": findings,
        "details": {
            "method": trace.method,
            "input_shape": list(inputs.shape),
            "output_shape": list(trace.output.shape),
            "threshold": threshold,
            **details,
        },
    }
    full = {mode: matrix for mode, matrix in full.items() if matrix is not None}
    if full:
        result["full_report"] = {
            "relative_dependence": full,
            "layout": "per mode, {output index: [relative dependence on input index 0, 1, ...]}; null = not measured",
        }
    return result
