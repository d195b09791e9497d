"""check_initialization, worker side: is the freshly built model healthy before its first step?

One forward pass of a training batch, in train mode and without gradients, measures:
- the loss at init against what theory says (ln C for C classes, or the user's value);
- every activation function's input and output, whether it is an nn.ReLU module or an
  F.relu / torch.tanh call inside a forward: a TorchFunctionMode sees both. ReLU-like units
  that are never active over the batch are dead; tanh/sigmoid units whose pre-activations
  sit where the derivative is under 1 % of its peak are saturated;
- the output of every Linear/Conv layer in forward order, for the layer-over-layer trend of
  the signal (the per-unit spread over the batch: a bias alone is no signal);
- each Linear/Conv weight's std next to what the usual schemes give for its fan-in/out;
- the inputs' scale: raw 0-255 pixels are the usual cause of everything above.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ..wire.compact import significant
from ..wire.findings import ERROR, INFO, WARNING, finding, sort_findings
from ..wire.messages import InitRequest
from ..worker import loss_calls, loss_judges, nonfinite
from ..worker.harness import default_loss, inputs_of, targets_of
from ..worker.job import JobContext
from ..worker.scales import scale_problem  # one definition of "unnormalized" for both tools
from .attention import AttentionRecorder, attention_findings
from .details import ActivationRow, AttentionRow, InitDetails, LayerRow, WeightRow

# AUTOTRAINER (Zhang et al., ICSE 2021) calls a ReLU layer dying at >= 70 % zeros; we count units
# never active over the whole batch, which a healthy layer almost never has (0 % on the fixtures).
DEAD_FRACTION = 0.7
# DeepDiagnosis (Wardat et al., ICSE 2022): saturated when > 50 % of the pre-activations are in the
# flat part. We put the edge where the derivative falls under 1 % of its peak: |x| > 3 for tanh
# (1 - tanh(3)^2 = 0.0099), |x| > 6 for sigmoid (4 sigma'(6) = 0.0099); hardtanh is flat past its limits.
SATURATED_FRACTION = 0.5
SATURATION_EDGE = {"tanh": 3.0, "sigmoid": 6.0}
RELU_LIKE = {"relu", "relu6", "leaky_relu", "rrelu", "elu", "celu", "selu", "gelu", "silu", "mish", "hardswish"}
# Signal of the deepest Linear/Conv over the input's (or the first layer's). Default PyTorch init shrinks it
# ~0.41x per ReLU layer (measured: 3e-4 after 8 layers, 1e-5 after 12); N(0, 0.01) on 10 layers gives 5e-15.
EXPLODING_GROWTH = 1e3
VANISHING_SHRINK = 1e-5
CONFIDENT_LOGITS = 0.25  # init loss this far above ln C (within tolerance): worth an info, not a warning
DIMENSION_MATCH = 1.5  # loss/expected within 1.5x of 1/D (or D): averaged (or summed) over D elements
SCHEME_MATCH = 0.15  # a weight std within 15 % of a scheme's "matches" it
# A weight std this many times the largest usual scheme (kaiming, xavier, lecun, the default) is outside all
# of them: N(0, 1) on a fan-in of 64 is 5.7x kaiming; the default init scaled by 50 is 20x.
OVERSIZED = 10.0
ROWS_SHOWN = 10  # activation / layer / weight rows in details; the full tables go to full_report


# ---------------------------------------------------------------- measuring one forward pass


def _signal(t: torch.Tensor) -> float:
    """Spread of each unit over the batch (dim 0), averaged in quadrature: the input-dependent part."""
    flat = t.detach().float().reshape(t.shape[0], -1)
    # The mean of the per-unit variances, written out: Tensor.var over dim 0 of a wide tensor is ~10x slower.
    return float((flat - flat.mean(dim=0)).pow(2).mean().sqrt())


def _activation_kind(func: Any, args: tuple, kwargs: dict) -> str | None:
    name = getattr(func, "__name__", "").rstrip("_")
    if name == "hardtanh":  # nn.ReLU6 is hardtanh(0, 6): ReLU-like; hardtanh(-1, 1) saturates
        low = kwargs.get("min_val", args[1] if len(args) > 1 else -1.0)
        return "relu6" if low >= 0 else "hardtanh"
    if name in RELU_LIKE or name in SATURATION_EDGE:
        return name
    return None


def _saturated(pre: torch.Tensor, kind: str, args: tuple, kwargs: dict) -> torch.Tensor:
    if kind == "hardtanh":
        low = kwargs.get("min_val", args[1] if len(args) > 1 else -1.0)
        high = kwargs.get("max_val", args[2] if len(args) > 2 else 1.0)
        return (pre < low) | (pre > high)
    return pre.abs() > SATURATION_EDGE[kind]


class ForwardPosition:
    """Where the forward pass is: the modules running (outermost first) and the last one that returned."""

    def __init__(self):
        self.running: list[tuple[str, nn.Module]] = []
        self.last_done: str | None = None


class ActivationRecorder(TorchFunctionMode):
    """Statistics of every activation-function call, named after the module it belongs to."""

    def __init__(self, position: ForwardPosition):
        super().__init__()
        self.position = position  # kept up to date by the forward hooks
        self.rows: list[dict[str, Any]] = []
        self._seen: dict[str, int] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        kind = _activation_kind(func, args, kwargs)
        pre = args[0] if args else kwargs.get("input")
        if kind is None or not isinstance(pre, torch.Tensor) or not pre.is_floating_point() or pre.dim() < 2:
            return func(*args, **kwargs)
        row = self._pre_stats(kind, pre.detach().float(), args, kwargs)  # before the call: inplace ops overwrite it
        out = func(*args, **kwargs)
        if isinstance(out, torch.Tensor):
            row.update(mean=float(out.detach().float().mean()), std=float(out.detach().float().std(correction=0)))
        self.rows.append(row)
        return out

    def _pre_stats(self, kind: str, pre: torch.Tensor, args: tuple, kwargs: dict) -> dict[str, Any]:
        name, module = self.position.running[-1] if self.position.running else ("<model>", None)
        # nn.ReLU() and the like are named as modules; F.relu in a forward after the module whose output it takes
        is_activation_module = module is not None and not any(module.children()) and not any(module.parameters())
        if is_activation_module:
            where = name
        else:
            done = self.position.last_done
            where = f"{kind} after {done}" if done else f"{kind} in {name}"
        calls = self._seen[where] = self._seen.get(where, 0) + 1
        row: dict[str, Any] = {
            "where": where if calls == 1 else f"{where}#{calls}",
            "fn": kind,
            "shape": list(pre.shape),
            "pre_std": float(pre.std(correction=0)),
        }
        units = pre.reshape(pre.shape[0], -1)  # a unit: one feature/position, seen across the batch
        if kind in RELU_LIKE:
            row["dead_fraction"] = float(1 - (units > 0).any(dim=0).float().mean())
        else:
            row["saturated_fraction"] = float(_saturated(units, kind, args, kwargs).float().mean())
        return row


def _weight_layers(model: nn.Module) -> dict[str, nn.Module]:
    return {name: m for name, m in model.named_modules() if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))}


@dataclass
class Observation:
    """What one forward pass at init showed."""

    loss: float
    terms: dict[str, float]  # the other entries of a loss dict
    output: Any  # harness.forward's output (else the model's own)
    activations: list[dict] = field(default_factory=list)
    layers: list[dict] = field(default_factory=list)  # Linear/Conv outputs in forward order
    attention: list[dict] = field(default_factory=list)  # one row per attention call
    loss_calls: list[loss_calls.LossCall] = field(default_factory=list)  # the loss's cross-entropy calls


def _position_hooks(model: nn.Module, position: ForwardPosition, seen: Observation) -> list:
    """Hooks keeping `position` current and recording each Linear/Conv output and the model's output."""
    layers = _weight_layers(model)

    def enter(name: str):
        return lambda module, inputs: position.running.append((name, module))

    def leave(name: str):
        def record(module: nn.Module, inputs: Any, out: Any) -> None:
            position.running.pop()
            position.last_done = name or "<model>"
            if name in layers and isinstance(out, torch.Tensor) and out.dim() >= 2 and out.is_floating_point():
                seen.layers.append(
                    {
                        "layer": name,
                        "type": type(module).__name__,
                        "signal": _signal(out),
                        "mean": float(out.detach().float().mean()),
                    }
                )
            if module is model and seen.output is None:
                seen.output = out

        return record

    handles = []
    for name, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(enter(name or "<model>")))
        handles.append(module.register_forward_hook(leave(name), always_call=True))
    return handles


def _forward(ctx: JobContext, model: nn.Module, batch: Any) -> tuple[bool, Any]:
    """(ran, output) of harness.forward. Without a forward in the harness and with a custom loss_fn,
    model(batch[0]) is only our guess at the call: if it fails, the loss's own forward is observed instead."""
    guessing = ctx.harness.forward_fn is None and not ctx.harness.uses_default_loss
    try:
        return True, ctx.harness.forward(model, batch)
    except Exception:  # the user's model called the wrong way by our guess
        if guessing:
            return False, None
        raise


def _loss_of(ctx: JobContext, model: nn.Module, batch: Any, output: Any) -> tuple[Any, dict[str, Any]]:
    """The loss and its terms. The default loss is read off the observed output (the same
    forward, the same dropout draw); a custom loss_fn runs its own forward."""
    if ctx.harness.uses_default_loss:
        return default_loss(output, batch, ctx.harness.ignore_index), {}
    return ctx.harness.loss_terms(model, batch)


def _observe(ctx: JobContext, model: nn.Module, batch: Any) -> Observation:
    """Activation, layer and attention statistics of harness.forward, and the loss (with its terms)."""
    position = ForwardPosition()
    seen = Observation(math.nan, {}, None)
    handles = _position_hooks(model, position, seen)
    recorder = ActivationRecorder(position)
    attention = AttentionRecorder(lambda: position.running[-1][0] if position.running else "<model>")
    losses = loss_calls.LossCallRecorder()  # what a custom loss_fn computes, for its expected value
    model.train()  # what the first training step sees (dropout on, batch statistics)
    try:
        with torch.no_grad(), attention, recorder:
            ran, output = _forward(ctx, model, batch)
            if not ran:
                position.running.clear()
                for rows in (recorder.rows, attention.rows, seen.layers):
                    rows.clear()
                with losses:
                    loss, terms = ctx.harness.loss_terms(model, batch)
    finally:
        for handle in handles:
            handle.remove()
    if ran:
        seen.output = output
        with torch.no_grad(), losses:
            loss, terms = _loss_of(ctx, model, batch, output)
    seen.loss, seen.terms = float(loss), {name: float(value) for name, value in terms.items()}
    seen.loss_calls = losses.calls
    seen.activations, seen.attention = recorder.rows, attention.rows
    return seen


# ---------------------------------------------------------------- what the numbers should be


def _expected_loss(ctx: JobContext, batch: Any, seen: Observation) -> tuple[float | None, str]:
    """(expected loss, where that number comes from) or (None, why it cannot be known).

    Theory gives the loss at init for a cross-entropy (ln C): the default loss, or a custom loss_fn whose
    value is its cross-entropy calls' (loss_calls.py). Any other loss_fn (an ELBO, a policy-gradient
    surrogate) is checked only against the user's expected_init_loss."""
    if ctx.req.expected_init_loss is not None:
        return float(ctx.req.expected_init_loss), "expected_init_loss"
    if not ctx.harness.uses_default_loss:
        found = loss_calls.expected_value(seen.loss_calls, seen.loss)
        if found is not None:
            return found
        return None, (
            "the harness's own loss_fn is not a cross-entropy alone (no cross_entropy, nll_loss or "
            "binary_cross_entropy_with_logits call whose value is the loss): its value at init only you know"
        )
    output = seen.output
    targets = targets_of(batch)
    if targets is None or targets.is_floating_point():
        return None, "the default loss is MSE here (float targets): its value at init depends on the targets' scale"
    classes = ctx.harness.num_classes
    if classes is not None and classes >= 2:
        return math.log(classes), f"ln(num_classes={classes})"
    if isinstance(output, torch.Tensor) and output.dim() >= 1 and output.shape[-1] >= 2:
        return math.log(output.shape[-1]), f"ln(C) with C={output.shape[-1]}, the logits' last dim"
    return None, "the model's output has no class dimension to read C from"


def _dimensions(output: Any, batch: Any) -> set[int]:
    """Sizes a loss may be summed or averaged over: each non-batch dim of the outputs and targets, and
    their product (64 pixels of an 8x8 image, T x C of a sequence)."""
    tensors = nonfinite.tensors(output) + nonfinite.tensors(targets_of(batch))
    dims: set[int] = set()
    for t in tensors:
        if t.dim() >= 2:
            dims.update(t.shape[1:])
            dims.add(math.prod(t.shape[1:]))
    return {d for d in dims if d >= 2}


def _matching_dimension(ratio: float, dims: set[int]) -> int | None:
    """The D with ratio ~ 1/D (or ~ D), within DIMENSION_MATCH: a mean where the paper sums, or the reverse."""
    factor = 1 / ratio if ratio < 1 else ratio
    best = min(dims, key=lambda d: abs(math.log(factor / d)), default=None)
    return best if best is not None and abs(math.log(factor / best)) <= math.log(DIMENSION_MATCH) else None


def _fans(weight: torch.Tensor) -> tuple[int, int]:
    """torch.nn.init's convention: dim 1 is fan-in, dim 0 fan-out, times the kernel size."""
    receptive = weight[0][0].numel() if weight.dim() > 2 else 1
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def _weight_row(name: str, module: nn.Module) -> dict[str, Any]:
    weight = cast(torch.Tensor, module.weight).detach().float()
    fan_in, fan_out = _fans(weight)
    std = float(weight.std(correction=0))
    schemes = {
        "pytorch_default": 1 / math.sqrt(3 * fan_in),  # kaiming_uniform_(a=sqrt(5)), what nn.Linear/Conv do
        "kaiming_relu": math.sqrt(2 / fan_in),
        "xavier": math.sqrt(2 / (fan_in + fan_out)),
        "lecun": 1 / math.sqrt(fan_in),
    }
    matches = [scheme for scheme, value in schemes.items() if std > 0 and abs(std / value - 1) <= SCHEME_MATCH]
    if std == 0:
        matches = ["zeros"]
    return {
        "layer": name,
        "shape": list(weight.shape),
        "fan_in": fan_in,
        "fan_out": fan_out,
        "std": std,
        "kaiming_std": schemes["kaiming_relu"],
        "xavier_std": schemes["xavier"],
        "default_std": schemes["pytorch_default"],
        "matches": matches,
    }


def _oversized_findings(weights: dict[str, dict]) -> list[dict]:
    """Layers whose weight std is OVERSIZED times every usual scheme's: not a scheme, a scale bug."""
    rows = []
    for row in weights.values():
        largest = max(row["kaiming_std"], row["xavier_std"], row["default_std"], 1 / math.sqrt(row["fan_in"]))
        if row["std"] > OVERSIZED * largest:
            rows.append({**row, "times_largest_scheme": row["std"] / largest})
    if not rows:
        return []
    worst = max(rows, key=lambda r: r["times_largest_scheme"])
    return [
        finding(
            "oversized_weights",
            WARNING,
            f"{len(rows)} layer(s) start with weights far above every usual init; worst {worst['layer']}: std "
            f"{worst['std']:.3g}, {worst['std'] / worst['default_std']:.3g}x the PyTorch default "
            f"({worst['default_std']:.3g}) and {worst['times_largest_scheme']:.3g}x the largest scheme",
            where=worst["layer"],
            evidence={
                "layers": {r["layer"]: significant(r["std"]) for r in rows[:8]},
                "default_std": worst["default_std"],
                "kaiming_std": worst["kaiming_std"],
                "times_default": worst["std"] / worst["default_std"],
            },
            suggestion="Find where those weights are set or scaled after construction (an init meant for another "
            "scale, a multiplier applied twice); keep the default init or kaiming/xavier, then call "
            "check_initialization again.",
        )
    ]


def _input_scale(batch: Any) -> dict[str, Any] | None:
    try:
        inputs = inputs_of(batch)
    except Exception:  # a dict batch without an inputs key: nothing to judge
        return None
    if not inputs.is_floating_point() or inputs.numel() < 2:
        return None  # token ids, masks: not a scale question
    values = inputs.detach().float()
    return {
        "shape": list(values.shape),
        "mean": float(values.mean()),
        "std": float(values.std(correction=0)),
        "min": float(values.min()),
        "max": float(values.max()),
        "signal": _signal(values),
    }


def _unnormalized(scale: dict[str, Any] | None) -> bool:
    if scale is None:
        return False
    return scale_problem(scale["mean"], scale["std"], scale["min"], scale["max"]) is not None


# ---------------------------------------------------------------- findings


def _mismatch_suggestion(ratio: float, dimension: int | None) -> str:
    if dimension is not None and ratio < 1:
        return (
            f"The loss is ~1/{dimension} of the expected value: a mean over D={dimension} elements where the paper "
            "sums (e.g. reduction='mean' over pixels or tokens while another term is summed). Sum over those "
            "elements and average over the batch only, then call check_initialization again."
        )
    if dimension is not None:
        return (
            f"The loss is ~{dimension}x the expected value: a sum over D={dimension} elements where the paper "
            "averages, or the expected value is per element while the loss is per example."
        )
    if ratio > 1:
        return (
            "Far above: the logits start large (scale of the last layer, an extra multiplier, unnormalised inputs), "
            "the loss is summed where the paper averages, or a term is counted twice. A zero-initialised last "
            "layer gives exactly ln C."
        )
    return (
        "Far below: the loss is averaged over more elements than the paper (a mean where it sums), a term is "
        "missing or scaled down by a constant, a sign is flipped, or the targets leak into the inputs. Check "
        "each term with check_known_values on a hand-worked case."
    )


def _loss_findings(
    loss: float, expected: float | None, source: str, tolerance: float, dims: set[int], oversized: list[dict]
) -> list[dict]:
    if expected is None:
        return [
            finding(
                "init_loss_unchecked",
                INFO,
                f"the loss at init is {loss:.4g}; no expected value: {source}",
                evidence={"init_loss": loss},
                suggestion="Pass expected_init_loss (the paper's value at init, e.g. 64 ln 2 for a Bernoulli "
                "decoder on 64 pixels) to check it.",
            )
        ]
    ratio = loss / expected
    evidence = {
        "init_loss": loss,
        "expected": expected,
        "expected_from": source,
        "ratio": ratio,
        "tolerance": tolerance,
    }
    if ratio > 1 + tolerance or ratio < 1 / (1 + tolerance):
        # oversized weights explain a loss far above: not a reduction that matches by chance
        if ratio > 1 and oversized:
            return [_oversized_loss_finding(loss, expected, source, evidence, oversized[0])]
        return [_mismatch_finding(loss, expected, source, dims, evidence)]
    if ratio > 1 + CONFIDENT_LOGITS and source != "expected_init_loss":
        return [
            finding(
                "init_loss_mismatch",
                INFO,
                f"loss at init is {loss:.4g}, {ratio:.3g}x ln C = {expected:.4g}: within tolerance, but the logits "
                "start confident, so the first steps only shrink them",
                where="loss_fn",
                evidence=evidence,
                suggestion="Optional: initialise the last layer smaller (or zero) so the loss starts at ln C.",
            )
        ]
    return []


def _mismatch_finding(loss: float, expected: float, source: str, dims: set[int], evidence: dict) -> dict:
    """init_loss_mismatch (WARNING), naming the output or target size the ratio matches, if one does."""
    ratio = evidence["ratio"]
    # a ratio of ~D or ~1/D points at a reduction over the wrong dimension (a mean where the paper sums, or the reverse)
    dimension = _matching_dimension(ratio, dims) if ratio > 0 else None
    return finding(
        "init_loss_mismatch",
        WARNING,
        f"loss at init is {loss:.4g}, {ratio:.3g}x the expected {expected:.4g} ({source})"
        + (
            f"; ~{'1/' if ratio < 1 else ''}{dimension}, with {dimension} a size of the output or targets"
            if dimension
            else ""
        ),
        where="loss_fn",
        evidence={**evidence, "dimension": dimension},
        suggestion=_mismatch_suggestion(ratio, dimension),
    )


def _oversized_loss_finding(loss: float, expected: float, source: str, evidence: dict, oversized: dict) -> dict:
    layer = oversized["where"]
    return finding(
        "init_loss_mismatch",
        WARNING,
        f"loss at init is {loss:.4g}, {evidence['ratio']:.3g}x the expected {expected:.4g} ({source}); likely cause: "
        f"the oversized weights of {layer} (see oversized_weights), which make the logits start large",
        where="loss_fn",
        evidence={**evidence, "dimension": None, "likely_cause": "oversized_weights", "layer": layer},
        suggestion=f"Initialise {layer} at its default scale (or zero, which gives the expected value exactly), "
        "then call check_initialization again.",
    )


def _activation_findings(rows: list[dict]) -> list[dict]:
    findings = []
    dead = [r for r in rows if r.get("dead_fraction", 0) >= DEAD_FRACTION]
    if dead:
        worst = max(dead, key=lambda r: r["dead_fraction"])
        all_dead = worst["dead_fraction"] == 1.0
        findings.append(
            finding(
                "dead_activations",
                ERROR if all_dead else WARNING,
                f"{len(dead)} of {len(rows)} activation layers have >= {DEAD_FRACTION:.0%} of their units never active "
                f"over the batch; worst {worst['where']}: {worst['dead_fraction']:.0%} dead"
                + (" (no gradient gets through it)" if all_dead else ""),
                where=worst["where"],
                evidence={
                    "layers": {r["where"]: round(r["dead_fraction"], 4) for r in dead[:8]},
                    "pre_std": worst["pre_std"],
                },
                suggestion="Look at the bias init (a large negative bias), the weight scale and the inputs feeding "
                "that layer; after a fix, call gradient_check to see gradients reach the layers below.",
            )
        )
    saturated = [r for r in rows if r.get("saturated_fraction", 0) > SATURATED_FRACTION]
    if saturated:
        worst = max(saturated, key=lambda r: r["saturated_fraction"])
        findings.append(
            finding(
                "saturated_activations",
                WARNING,
                f"{len(saturated)} of {len(rows)} activation layers have > {SATURATED_FRACTION:.0%} of their "
                f"pre-activations in the flat part; worst {worst['where']} ({worst['fn']}): "
                f"{worst['saturated_fraction']:.0%}, pre-activation std {worst['pre_std']:.3g}",
                where=worst["where"],
                evidence={
                    "layers": {r["where"]: round(r["saturated_fraction"], 4) for r in saturated[:8]},
                    "edge": dict(SATURATION_EDGE),
                },
                suggestion="Scale the weights feeding it to the fan-in (xavier_uniform_ for tanh/sigmoid) and check "
                "the inputs' scale.",
            )
        )
    return findings


def _trend(layer_rows: list[dict], weights: dict[str, dict], scale: dict | None) -> dict[str, Any] | None:
    """The signal of the deepest Linear/Conv over the reference (the input, else the first layer)."""
    rows = [r for r in layer_rows if "zeros" not in weights[r["layer"]]["matches"]]  # zero-init heads are deliberate
    if scale is not None and scale["signal"] > 0:
        reference, reference_name = scale["signal"], "input"
    elif len(rows) >= 2 and rows[0]["signal"] > 0:
        reference, reference_name, rows = rows[0]["signal"], rows[0]["layer"], rows[1:]
    else:
        return None
    if not rows:
        return None
    last = rows[-1]
    ratio = last["signal"] / reference
    return {
        "reference": reference_name,
        "reference_signal": reference,
        "last_layer": last["layer"],
        "last_signal": last["signal"],
        "ratio": ratio,
        "layers": len(rows),
        "gain_per_layer": ratio ** (1 / len(rows)) if ratio > 0 else 0.0,
    }


def _trend_findings(trend: dict[str, Any] | None, layer_rows: list[dict]) -> list[dict]:
    if trend is None:
        return []
    evidence = {**trend, "signals": {r["layer"]: r["signal"] for r in layer_rows[:4] + layer_rows[-4:]}}
    if trend["ratio"] > EXPLODING_GROWTH:
        return [
            finding(
                "exploding_activations",
                WARNING,
                f"the signal grows {trend['ratio']:.3g}x from the {trend['reference']} to {trend['last_layer']} over "
                f"{trend['layers']} Linear/Conv layers ({trend['gain_per_layer']:.3g}x per layer)",
                where=trend["last_layer"],
                evidence=evidence,
                suggestion="The weights are too large for their fan-in: use the default init, kaiming_normal_ for ReLU "
                "or xavier for tanh (compare 'weights' in details), or add normalisation layers.",
            )
        ]
    if trend["ratio"] < VANISHING_SHRINK:
        return [
            finding(
                "vanishing_activations",
                WARNING,
                f"the signal shrinks to {trend['ratio']:.3g}x of the {trend['reference']} by {trend['last_layer']} "
                f"over {trend['layers']} Linear/Conv layers ({trend['gain_per_layer']:.3g}x per layer): the output "
                "barely depends on the input",
                where=trend["last_layer"],
                evidence=evidence,
                suggestion="The weights are too small for their fan-in: use kaiming_normal_ for ReLU or xavier for "
                "tanh (compare 'weights' in details), or add normalisation/residual connections.",
            )
        ]
    return []


def _inputs_finding(scale: dict[str, Any], blamed: bool) -> dict[str, Any]:
    return finding(
        "unnormalized_inputs",
        WARNING,
        f"the inputs have mean {scale['mean']:.4g} and std {scale['std']:.4g} (range [{scale['min']:.4g}, "
        f"{scale['max']:.4g}]), far from unit scale"
        + (
            ": the likely cause of the other findings here" if blamed else " (nothing else at init suffers from it yet)"
        ),
        where="get_batch",
        evidence=scale,
        suggestion="Normalise in get_batch (pixels: /255, then subtract the training set's mean and divide by its "
        "std), then call check_initialization again; inspect_data shows the per-channel statistics.",
    )


def _blame_inputs(findings: list[dict]) -> None:
    for item in findings:
        item["message"] += "; likely cause: inputs far from unit scale (see unnormalized_inputs)"
        item["evidence"]["likely_cause"] = "unnormalized_inputs"


# ---------------------------------------------------------------- compact output


def _shown(rows: list[dict], flagged) -> list[dict]:
    """Flagged rows first, then evenly spaced others, at most ROWS_SHOWN, in their original order."""
    if len(rows) <= ROWS_SHOWN:
        return rows
    keep = [i for i, r in enumerate(rows) if flagged(r)][:ROWS_SHOWN]
    others = [i for i in range(len(rows)) if i not in set(keep)]
    room = ROWS_SHOWN - len(keep)
    if room > 0:
        step = max(1, len(others) / room)
        keep += [others[min(len(others) - 1, round(k * step))] for k in range(room)]
    return [rows[i] for i in sorted(set(keep))]


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: significant(v) if isinstance(v, float) else v for k, v in row.items()}


def _summary(loss: float, expected: float | None, source: str, rows: list, trend: dict | None, findings: list) -> str:
    problems = [f for f in findings if f["severity"] != INFO]
    loss_text = f"loss at init {loss:.4g}" + (f" vs {expected:.4g} ({source})" if expected is not None else "")
    if problems:
        first = problems[0]
        return f"{len(problems)} problem(s) at init; first: {first['message']}. ({loss_text})"
    trend_text = f", signal x{trend['ratio']:.3g} from {trend['reference']} to the last layer" if trend else ""
    return (
        f"Healthy at init: {loss_text}; {len(rows)} activation layer(s) with no dead or saturated units"
        f"{trend_text}. Next: run_overfit_test."
    )


def _non_finite_result(ctx: JobContext, model: nn.Module, batch: Any, loss: float) -> dict[str, Any]:
    culprit = nonfinite.locate(model, lambda: ctx.harness.loss(model, batch))
    return {
        "summary": f"the loss at init is {loss}: the model is broken before training starts",
        "findings": [
            finding(
                "non_finite_loss",
                ERROR,
                f"loss at init is {loss}" + (f", first non-finite in {culprit['where']}" if culprit["where"] else ""),
                where=culprit["where"],
                evidence=culprit,
                suggestion="Look for log(0), division by zero or exp overflow at the named place.",
            )
        ],
        "details": None,
    }


def _findings(
    ctx: JobContext,
    seen: Observation,
    batch: Any,
    scale: dict | None,
    trend: dict | None,
    expected: tuple[float | None, str],
    weights: dict[str, dict],
) -> list[dict]:
    findings = loss_judges.negative_kl({name: [value] for name, value in seen.terms.items()}, [seen.loss], "at init")
    oversized = _oversized_findings(weights)
    findings += _loss_findings(seen.loss, *expected, ctx.req.tolerance, _dimensions(seen.output, batch), oversized)
    findings += oversized
    findings += attention_findings(seen.attention)
    findings += _activation_findings(seen.activations)
    if not any(f["code"] == "dead_activations" and f["severity"] == ERROR for f in findings):
        findings += _trend_findings(trend, seen.layers)  # a fully dead layer already explains a zero signal
    if _unnormalized(scale):
        blamed = [f for f in findings if f["severity"] != INFO and f["code"] != "negative_kl"]
        _blame_inputs(blamed)
        findings.insert(0, _inputs_finding(scale, bool(blamed)))
    return findings


def _details(
    ctx: JobContext,
    seen: Observation,
    weights: dict,
    scale: dict | None,
    trend: dict | None,
    expected: tuple[float | None, str],
    findings: list[dict],
) -> InitDetails:
    schemes: dict[str, int] = {}
    for row in weights.values():
        for scheme in row["matches"] or ["none"]:
            schemes[scheme] = schemes.get(scheme, 0) + 1
    flagged = {f["where"] for f in findings}
    return InitDetails(
        init_loss=seen.loss,
        terms=seen.terms,
        expected_loss=expected[0],
        expected_from=expected[1],
        ratio=seen.loss / expected[0] if expected[0] else None,
        tolerance=ctx.req.tolerance,
        inputs=scale,
        activations=[ActivationRow(**_rounded(r)) for r in _shown(seen.activations, lambda r: r["where"] in flagged)],
        layers=[LayerRow(**_rounded(r)) for r in _shown(seen.layers, lambda r: r["layer"] in flagged)],
        attention=[AttentionRow(**_rounded(r)) for r in _shown(seen.attention, lambda r: r["where"] in flagged)],
        trend=trend,
        weights=[WeightRow(**_rounded(r)) for r in _shown(list(weights.values()), lambda r: not r["matches"])],
        init_schemes=schemes,
        rows_total={
            "activations": len(seen.activations),
            "layers": len(seen.layers),
            "weights": len(weights),
            "attention": len(seen.attention),
        },
    )


def run(ctx: JobContext[InitRequest]) -> dict[str, Any]:
    model = ctx.build_model()
    batch = ctx.batch(ctx.req.batch_size, "train")
    ctx.progress(0, 1, "forward pass at init", force=True)
    seen = _observe(ctx, model, batch)
    if not math.isfinite(seen.loss):
        return _non_finite_result(ctx, model, batch, seen.loss)
    weights = {name: _weight_row(name, m) for name, m in _weight_layers(model).items()}
    scale = _input_scale(batch)
    trend = _trend(seen.layers, weights, scale)
    expected = _expected_loss(ctx, batch, seen)
    findings = _findings(ctx, seen, batch, scale, trend, expected, weights)
    details = _details(ctx, seen, weights, scale, trend, expected, findings)
    full = None
    if max(details.rows_total.values()) > ROWS_SHOWN:
        full = {
            "activations": seen.activations,
            "layers": seen.layers,
            "weights": list(weights.values()),
            "attention": seen.attention,
        }
    findings = sort_findings(findings)  # the summary quotes the most severe first
    return {
        "summary": _summary(seen.loss, *expected, seen.activations, trend, findings),
        "findings": findings,
        "details": asdict(details),
        "full_report": full,
    }
