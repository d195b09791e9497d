"""gradient_check, worker side: do gradients reach every parameter, finite and of a sane size?

Model mode runs one forward/backward pass on a training batch and reads every trainable
parameter's gradient: missing (None: disconnected from the loss), exactly zero, NaN/Inf,
and the trend of gradient norms over the layers in the order the forward pass runs them.
Numerical mode checks one function of the harness (a plain function, an autograd.Function
or an nn.Module class) against central finite differences in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ..wire.compact import evenly_spaced, significant
from ..wire.details import FunctionKind
from ..wire.findings import ERROR, WARNING, finding, sort_findings
from ..wire.messages import GradientRequest
from ..worker import nonfinite
from ..worker.failures import HarnessError
from ..worker.job import JobContext
from .details import GradientDetails, InputError, ModelGradients, ModuleGradient, NumericalResult, ParamNorms, Trend

# Thresholds start from AUTOTRAINER (Zhang et al., ICSE 2021: first/last layer gradient norm
# ratio < 1e-3 vanishing, > 70 exploding) and TheDeepChecker (Ben Braiek & Khomh: absolute
# norms < 1e-6 / > 1e6), checked against the clean and buggy fixtures in tests/harnesses/grad_*.
VANISHING_RATIO = 1e-3  # first layer's gradient norm / last layer's
EXPLODING_RATIO = 70.0
VANISHING_NORM = 1e-6  # the largest layer gradient norm below this: nothing learns
EXPLODING_NORM = 1e6  # any layer gradient norm above this
MAX_MODULES_SHOWN = 30  # rows of the per-module table in details; the full table goes to the report
NAMES_SHOWN = 5  # parameter names quoted in a finding's message

# Numerical mode: one forward pass per input element and one backward pass per output element.
MAX_JACOBIAN_SIDE = 4096


# ---------------------------------------------------------------- model mode


def _forward_order(model: nn.Module, run: Callable[[], Any]) -> tuple[Any, dict[str, int]]:
    """Run `run()`; return its result and, per module name, the order the forward pass first entered it."""
    order: dict[str, int] = {}

    def hook(name: str):
        def record(module: nn.Module, inputs: Any) -> None:
            order.setdefault(name, len(order))

        return record

    handles = [m.register_forward_pre_hook(hook(name)) for name, m in model.named_modules()]
    try:
        return run(), order
    finally:
        for handle in handles:
            handle.remove()


def _entry_of(module_name: str, order: dict[str, int]) -> int | None:
    """When the forward pass reached a module: its own entry, else its nearest entered ancestor's below the
    root (nn.MultiheadAttention uses out_proj's weight without calling it). None: never used."""
    parts = module_name.split(".")
    for end in range(len(parts), 0, -1):
        entry = order.get(".".join(parts[:end]))
        if entry is not None:
            return entry
    return None


def _param_state(grad: torch.Tensor | None) -> str:
    if grad is None:
        return "no_grad"
    if not bool(torch.isfinite(grad).all()):
        return "non_finite"
    if not bool(grad.any()):
        return "zero"
    return "ok"


def _norm(t: torch.Tensor | None) -> float | None:
    return None if t is None else significant(float(t.detach().double().norm()))


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or not (math.isfinite(num) and math.isfinite(den)) or den == 0:
        return None
    return significant(num / den)


def _parameter_table(model: nn.Module, order: dict[str, int]) -> list[dict[str, Any]]:
    """One row per trainable parameter tensor, ordered by depth: the forward order of the module owning it.

    A tensor shared by several modules (an embedding tied to the output layer) is one row, under the
    first module that holds it, marked `shared`: its gradient sums both uses, so it belongs to neither end
    of the network. Embedding rows are marked `sparse`: only the looked-up rows get a gradient."""
    holders: dict[int, int] = {}
    for _, module in model.named_modules():
        for p in module.parameters(recurse=False):
            holders[id(p)] = holders.get(id(p), 0) + 1
    rows, seen = [], set()
    for index, (module_name, module) in enumerate(model.named_modules()):
        entry = _entry_of(module_name, order) if module_name else order.get("")
        for short, p in module.named_parameters(recurse=False):
            if not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            grad_norm, param_norm = _norm(p.grad), _norm(p)
            rows.append(
                {
                    "name": f"{module_name}.{short}" if module_name else short,
                    "module": module_name or "<model>",
                    "depth": None if entry is None else (entry, index),
                    "shape": list(p.shape),
                    "numel": p.numel(),
                    "state": _param_state(p.grad),
                    "grad_norm": grad_norm,
                    "param_norm": param_norm,
                    "ratio": _ratio(grad_norm, param_norm),
                    "shared": holders[id(p)] > 1,
                    "sparse": isinstance(module, (nn.Embedding, nn.EmbeddingBag)),
                }
            )
    rows.sort(key=lambda r: (r["depth"] is None, r["depth"] or (0, 0)))
    # Rank the modules that ran: depth 0 is the input side.
    ranks = {
        depth: rank for rank, depth in enumerate(dict.fromkeys(r["depth"] for r in rows if r["depth"] is not None))
    }
    for row in rows:
        row["depth"] = ranks.get(row["depth"])
    return rows


def _root_sum_square(values: list[float | None]) -> float:
    return significant(math.sqrt(sum((v or 0.0) ** 2 for v in values)))


def _modules(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-module aggregates (root-sum-square norms over the module's own parameters), by depth.

    `trend_norm` leaves out shared and embedding tensors: the layer trend compares dense layers only."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["module"], []).append(row)
    result = []
    for name, own in grouped.items():
        states = {r["state"] for r in own}
        healthy = states <= {"ok", "zero"}
        dense = [r for r in own if not (r["shared"] or r["sparse"])]
        grad_norm = _root_sum_square([r["grad_norm"] for r in own]) if healthy else None
        param_norm = _root_sum_square([r["param_norm"] for r in own])
        result.append(
            {
                "module": name,
                "depth": own[0]["depth"],
                "params": sum(r["numel"] for r in own),
                "grad_norm": grad_norm,
                "param_norm": param_norm,
                "ratio": _ratio(grad_norm, param_norm),
                "state": next(s for s in ("non_finite", "no_grad", "zero", "ok") if s in states),
                "trend_norm": _root_sum_square([r["grad_norm"] for r in dense]) if healthy and dense else None,
            }
        )
    return result


def _shown(modules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most MAX_MODULES_SHOWN rows, evenly spread over depth, always keeping first, last and flagged ones."""
    if len(modules) <= MAX_MODULES_SHOWN:
        return modules
    flagged = {i for i, m in enumerate(modules) if m["state"] != "ok"}
    keep = sorted(flagged | set(evenly_spaced(len(modules), MAX_MODULES_SHOWN)))
    return [modules[i] for i in keep]


def _names(rows: list[dict[str, Any]]) -> str:
    names = [r["name"] for r in rows]
    more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return ", ".join(names[:NAMES_SHOWN]) + more


def _per_param_findings(rows: list[dict[str, Any]], loss_connected: bool) -> list[dict[str, Any]]:
    findings = []
    missing = [r for r in rows if r["state"] == "no_grad"]
    if not loss_connected:
        findings.append(
            finding(
                "params_without_grad",
                ERROR,
                "the loss does not require grad, so no parameter gets a gradient: it was computed under "
                "torch.no_grad() or from detached tensors",
                where="loss_fn",
                evidence={"count": len(missing), "params": [r["name"] for r in missing[:20]]},
                suggestion="The loss is detached or computed under no_grad: "
                "compute it from the model's output tensors, "
                "without .detach(), .item() or torch.no_grad().",
            )
        )
    elif missing:
        findings.append(
            finding(
                "params_without_grad",
                ERROR,
                f"{len(missing)} of {len(rows)} trainable parameter tensors got no gradient (.grad is None): "
                f"{_names(missing)}",
                where=missing[0]["name"],
                evidence={"count": len(missing), "params": [r["name"] for r in missing[:20]]},
                suggestion="These parameters are disconnected from the loss: their output is detached or computed "
                "under no_grad (.detach(), torch.no_grad(), .item()/.numpy() round trips; in a VAE, a sample drawn "
                "under no_grad cuts the encoder off), or the layers are built but never called in forward. Freeze "
                "intended ones with requires_grad_(False).",
            )
        )
    zero = [r for r in rows if r["state"] == "zero"]
    if zero:
        findings.append(
            finding(
                "zero_grad",
                ERROR,
                f"{len(zero)} of {len(rows)} parameter tensors have gradients that are exactly zero: {_names(zero)}",
                where=zero[0]["name"],
                evidence={"count": len(zero), "params": [r["name"] for r in zero[:20]]},
                suggestion="Something downstream of them multiplies by zero or blocks the signal: a mask of zeros, "
                "a ReLU that is never active, a clamp, or an output that does not feed the loss; or their real path "
                "to the loss is detached or computed under no_grad and a constant stands in for it.",
            )
        )
    return findings


def _chains(layers: list[dict[str, Any]], level: int = 0) -> list[list[dict[str, Any]]]:
    """The input-to-output chains to judge a trend along, from the module tree.

    A plain stack (a Sequential, or fc1..fcN attributes) is one chain. Submodules of several layers
    each (a trunk and its heads, a policy tower and a value tower, the blocks of a transformer) are judged
    one by one: two towers trained by losses of different scale say nothing about each other's gradients."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for layer in layers:
        parts = layer["module"].split(".")
        groups.setdefault(".".join(parts[: level + 1]) if len(parts) > level else layer["module"], []).append(layer)
    if len(groups) == 1 and any(len(m["module"].split(".")) > level + 1 for m in layers):
        return _chains(layers, level + 1)  # one wrapper (self.net = ...) holds everything: look inside it
    stacks = [group for group in groups.values() if len(group) > 1]
    return stacks or [layers]


def _trend(chain: list[dict[str, Any]]) -> Trend:
    first, last = chain[0], chain[-1]
    largest = max(chain, key=lambda m: m["trend_norm"])
    return Trend(
        first_module=first["module"],
        first_grad_norm=first["trend_norm"],
        last_module=last["module"],
        last_grad_norm=last["trend_norm"],
        first_last_ratio=significant(first["trend_norm"] / last["trend_norm"]),
        max_grad_norm=largest["trend_norm"],
        max_module=largest["module"],
    )


def _trend_findings(modules: list[dict[str, Any]]) -> tuple[Trend | None, list[dict[str, Any]]]:
    """Vanishing/exploding judged on per-module norms in forward order (input side first), per chain.

    The reported trend is the chain with the most extreme first/last ratio."""
    layers = [m for m in modules if m["depth"] is not None and m["trend_norm"]]
    if not layers:
        return None, []
    trends = [_trend(chain) for chain in _chains(layers) if len(chain) > 1] or [_trend(layers)]
    trend = max(trends, key=lambda t: abs(math.log(t.first_last_ratio)) if t.first_last_ratio > 0 else math.inf)
    largest = max(layers, key=lambda m: m["trend_norm"])
    trend.max_grad_norm, trend.max_module = largest["trend_norm"], largest["module"]
    ratio = trend.first_last_ratio
    chained = trend.first_module != trend.last_module
    evidence = {
        k: getattr(trend, k) for k in ("first_grad_norm", "last_grad_norm", "first_last_ratio", "max_grad_norm")
    }
    findings = []
    if largest["trend_norm"] < VANISHING_NORM or (chained and ratio < VANISHING_RATIO):
        findings.append(
            finding(
                "vanishing_grad",
                WARNING,
                f"gradients vanish towards the input: module '{trend.first_module}' gets {trend.first_grad_norm:.3g}, "
                f"'{trend.last_module}' gets {trend.last_grad_norm:.3g} "
                f"(ratio {ratio:.2g}, flagged below {VANISHING_RATIO:g})",
                where=trend.first_module,
                evidence=evidence,
                suggestion="Use ReLU/GELU instead of saturating activations, He/Xavier init, residual connections "
                "or normalisation layers; call check_initialization to see where activations saturate.",
            )
        )
    elif largest["trend_norm"] > EXPLODING_NORM or (chained and ratio > EXPLODING_RATIO):
        findings.append(
            finding(
                "exploding_grad",
                WARNING,
                f"gradients explode: module '{largest['module']}' has gradient norm {largest['trend_norm']:.3g} "
                f"(flagged above {EXPLODING_NORM:g}); first/last layer ratio {ratio:.3g} "
                f"('{trend.first_module}' over '{trend.last_module}')",
                where=largest["module"],
                evidence=evidence,
                suggestion="Check the initialisation scale (std ~ sqrt(2/fan_in)), add normalisation or gradient "
                "clipping; call check_initialization to see where activations blow up.",
            )
        )
    return trend, findings


def _non_finite_finding(code: str, what: str, culprit: dict[str, Any], evidence: dict[str, Any]) -> dict[str, Any]:
    place = f", first produced in {culprit['where']} ({culprit['stage']})" if culprit["where"] else ""
    return finding(
        code,
        ERROR,
        f"{what}{place}",
        where=culprit["where"],
        evidence={**evidence, **culprit},
        suggestion="Look for log(0), sqrt(0) in the backward, division by zero or exp overflow at the named place; "
        "add an eps or use the stable built-in (log_softmax, log1p, F.normalize).",
    )


def _term_reach(model: nn.Module, terms: dict[str, torch.Tensor]) -> dict[str, set[str]]:
    """Per named term of a loss dict: the parameters it sends a non-zero gradient to (one backward each)."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    reach = {}
    for term, value in terms.items():
        if not value.requires_grad:
            continue
        grads = torch.autograd.grad(value, [p for _, p in named], retain_graph=True, allow_unused=True)
        reach[term] = {n for (n, _), g in zip(named, grads) if g is not None and bool(g.any())}
    return reach


# Terms whose gradient is zero by construction while the model equals its reference: a KL to a copy of the
# policy, the entropy of a uniform policy. Any other term in the graph that trains nothing cancels itself.
ZERO_AT_INIT = ("kl", "entropy", "ent")


def _cancelled_terms(reach: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Terms computed with gradients that send exactly zero to every parameter: x - x where one side was meant
    detached (PPO's old log-probabilities recomputed from the current policy: a ratio of exactly 1, gradient 0)."""
    dead = sorted(t for t, names in reach.items() if not names and not t.lower().startswith(ZERO_AT_INIT))
    return [
        finding(
            "term_without_gradient",
            WARNING,
            f"the loss term '{term}' is computed with gradients but sends exactly zero gradient to every parameter: "
            "it trains nothing",
            where=term,
            evidence={"term": term, "terms": {t: len(names) for t, names in reach.items()}},
            suggestion="A quantity subtracted from itself or divided by itself cancels its gradient: a reference "
            "meant to be a constant (PPO's old log-probabilities, a target, a baseline) recomputed from the current "
            "model without .detach(), or stored from the rollout. Check the term with check_known_values on a "
            "hand-worked case; ignore this only if the term is zero by construction at initialisation.",
        )
        for term in dead
    ]


def _term_findings(reach: dict[str, set[str]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parameters that only a KL term trains, none of the data terms: the path from the data term to them
    is cut (a VAE's sample drawn under no_grad or detached: the encoder then learns from the KL alone)."""
    kl = {t for t in reach if t.lower().startswith("kl")}
    data = set(reach) - kl
    if not kl or not data:
        return []
    only_kl = set().union(*(reach[t] for t in kl)) - set().union(*(reach[t] for t in data))
    cut = [r for r in rows if r["name"] in only_kl]
    if not cut:
        return []
    return [
        finding(
            "params_without_grad",
            ERROR,
            f"{len(cut)} of {len(rows)} parameter tensors get a gradient only from {sorted(kl)}, none from the data "
            f"term(s) {sorted(data)}: {_names(cut)}",
            where=cut[0]["name"],
            evidence={"count": len(cut), "params": [r["name"] for r in cut[:20]], "terms": sorted(reach)},
            suggestion="The data term's path to these parameters is detached or computed under no_grad: in a VAE, "
            "the sample z = mu + sigma * eps drawn under torch.no_grad() or .detach()-ed, so the encoder learns from "
            "the KL alone. Draw it with gradients (the reparameterisation trick). Ignore this only if these "
            "parameters are meant to be trained by the KL alone (a learned prior).",
        )
    ]


def _module_gradient(m: dict[str, Any]) -> ModuleGradient:
    return ModuleGradient(
        module=m["module"],
        depth=m["depth"],
        params=m["params"],
        grad_norm=m["grad_norm"],
        param_norm=m["param_norm"],
        ratio=m["ratio"],
        state=m["state"],
    )


def _param_norms(r: dict[str, Any]) -> ParamNorms:
    return ParamNorms(name=r["name"], grad_norm=r["grad_norm"], param_norm=r["param_norm"], ratio=r["ratio"])


def _model_summary(
    rows, modules, counts, trend: Trend | None, reach, loss_value: float, findings: list
) -> tuple[ModelGradients, str]:
    """The compact details and the summary of a model check."""
    by_norm = sorted((r for r in rows if r["state"] == "ok"), key=lambda r: r["grad_norm"])
    details = ModelGradients(
        loss=loss_value,
        counts=counts,
        trend=trend,
        modules=[_module_gradient(m) for m in _shown(modules)],
        modules_total=len(modules),
        largest_grads=[_param_norms(r) for r in by_norm[::-1][:3]],
        smallest_grads=[_param_norms(r) for r in by_norm[:3]],
        term_reach={term: len(names) for term, names in reach.items()} or None,
    )
    if findings:
        return (
            details,
            f"{len(findings)} gradient problem(s) in one forward/backward pass; first: {findings[0]['message']}.",
        )
    return details, (
        f"All {len(rows)} parameter tensors get finite, non-zero gradients (loss {loss_value:.4g}); "
        f"norms from {by_norm[0]['grad_norm']:.3g} to {by_norm[-1]['grad_norm']:.3g}"
        + (f", first/last layer ratio {trend.first_last_ratio:.3g}" if trend else "")
        + ". Next: lr_sweep."
    )


def _model_check(ctx: JobContext) -> dict[str, Any]:
    model = ctx.build_model()
    if not any(p.requires_grad for p in model.parameters()):
        raise HarnessError("the model has no trainable parameters: nothing to check", where="build_model")
    model.train()
    batch = ctx.batch(ctx.req.batch_size, "train")
    forward_loss = lambda: ctx.harness.loss(model, batch)  # noqa: E731 - nonfinite.locate re-runs it
    model.zero_grad(set_to_none=True)
    (loss, terms), order = _forward_order(model, lambda: ctx.harness.loss_terms(model, batch, keep_graph=True))
    ctx.progress(1, 2, "forward pass done", force=True)
    loss_value = float(loss.detach())
    if not math.isfinite(loss_value):
        found = _non_finite_finding(
            "non_finite_loss", f"the loss is {loss_value}", nonfinite.locate(model, forward_loss), {"loss": None}
        )
        return {
            "summary": f"No gradient can be judged: {found['message']}. Fix the non-finite value first.",
            "findings": [found],
            "details": asdict(GradientDetails(model=ModelGradients(loss=None, counts={}, modules=[]))),
        }
    reach = _term_reach(model, terms) if loss.requires_grad else {}
    if loss.requires_grad:
        loss.backward()
    rows = _parameter_table(model, order)
    modules = _modules(rows)
    counts = {"tensors": len(rows), "elements": sum(r["numel"] for r in rows)}
    counts.update({s: sum(r["state"] == s for r in rows) for s in ("ok", "no_grad", "zero", "non_finite")})
    findings = _per_param_findings(rows, loss.requires_grad)
    bad = [r for r in rows if r["state"] == "non_finite"]
    if bad:
        culprit = nonfinite.locate(model, forward_loss)
        findings.append(
            _non_finite_finding(
                "non_finite_grad",
                f"{len(bad)} parameter tensors have NaN/Inf gradients although the loss ({loss_value:.4g}) is finite: "
                f"{_names(bad)}",
                culprit,
                {"count": len(bad), "params": [r["name"] for r in bad[:20]]},
            )
        )
    findings += _term_findings(reach, rows) + _cancelled_terms(reach)
    trend, trend_findings = _trend_findings(modules)
    findings = sort_findings(findings + trend_findings)
    details, summary = _model_summary(rows, modules, counts, trend, reach, loss_value, findings)
    return {
        "summary": summary,
        "findings": findings,
        "details": asdict(GradientDetails(model=details)),
        "full_report": {"loss": loss_value, "parameters": rows, "modules": modules},
    }


# ---------------------------------------------------------------- numerical mode


def _resolve_function(
    ctx: JobContext, name: str, device: torch.device
) -> tuple[Callable, FunctionKind, dict[str, torch.Tensor]]:
    """(callable, kind, parameters to check too) for the harness attribute `name`."""
    target = ctx.harness.named(name, "numerical.function")
    if isinstance(target, type) and issubclass(target, torch.autograd.Function):
        return target.apply, "autograd.Function", {}
    if isinstance(target, type) and issubclass(target, nn.Module):
        try:
            module = target()
        except TypeError as exc:
            raise HarnessError(
                f"{name}() cannot be built without arguments ({exc}); give its constructor defaults, "
                "or name a function that builds and calls it",
                where=name,
            ) from exc
        module = module.double().to(device).eval()  # eval: dropout would make finite differences noise
        params = {n: p.detach() for n, p in module.named_parameters() if p.requires_grad}

        def call(*args: torch.Tensor) -> Any:
            inputs, weights = args[: len(args) - len(params)], args[len(args) - len(params) :]
            return torch.func.functional_call(module, dict(zip(params, weights)), inputs)

        return call, "nn.Module", params
    if callable(target):
        return target, "function", {}
    raise HarnessError(f"numerical.function {name!r} is a {type(target).__name__}, not a callable", where=name)


def _flat_output(fn: Callable, args: list[torch.Tensor], name: str) -> torch.Tensor:
    out = fn(*args)
    tensors = nonfinite.tensors(out)
    floats = [t for t in tensors if t.is_floating_point()]
    if not floats:
        raise HarnessError(
            f"{name} returned {type(out).__name__} with no floating-point tensor to differentiate", where=name
        )
    return torch.cat([t.reshape(-1) for t in floats])


def _analytic_jacobian(fn: Callable, args: list[torch.Tensor], name: str) -> torch.Tensor:
    """(outputs, inputs) Jacobian from one backward pass per output element."""
    out = _flat_output(fn, args, name)
    if out.numel() > MAX_JACOBIAN_SIDE:
        raise HarnessError(
            f"{name} returns {out.numel()} elements; use smaller input_shapes (at most {MAX_JACOBIAN_SIDE})", where=name
        )
    if not out.requires_grad:  # computed under no_grad or detached: autograd sees a zero gradient
        return torch.zeros(out.numel(), sum(a.numel() for a in args), dtype=out.dtype, device=out.device)
    rows = []
    for i in range(out.numel()):
        grads = torch.autograd.grad(out[i], args, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([(torch.zeros_like(a) if g is None else g).reshape(-1) for a, g in zip(args, grads)]))
    return torch.stack(rows)


@torch.no_grad()
def _numerical_jacobian(fn: Callable, args: list[torch.Tensor], eps: float, name: str) -> torch.Tensor:
    """(outputs, inputs) Jacobian by central differences, one input element at a time."""
    values = [a.detach().clone() for a in args]
    columns = []
    for tensor in values:
        flat = tensor.view(-1)
        for j in range(flat.numel()):
            original = flat[j].item()
            flat[j] = original + eps
            plus = _flat_output(fn, values, name)
            flat[j] = original - eps
            minus = _flat_output(fn, values, name)
            flat[j] = original
            columns.append((plus - minus) / (2 * eps))
    return torch.stack(columns, dim=1)


class _PrecisionWatch(TorchFunctionMode):
    """The first op that returns a floating tensor below float64 while the function runs on float64 inputs."""

    def __init__(self):
        super().__init__()
        self.first: dict[str, str] | None = None

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.first is None:
            low = next((t for t in nonfinite.tensors(out) if t.is_floating_point() and t.dtype != torch.float64), None)
            if low is not None:
                self.first = {
                    "op": getattr(func, "__name__", str(func)),
                    "dtype": str(low.dtype).removeprefix("torch."),
                }
        return out


def _low_precision(fn: Callable, args: list[torch.Tensor], name: str) -> dict[str, str] | None:
    """Where the function leaves float64 (a .float() cast, a float32 buffer, autocast), if it does: finite
    differences at eps 1e-6 are then the lower precision's rounding noise, whatever the backward."""
    watch = _PrecisionWatch()
    with torch.no_grad(), watch:
        _flat_output(fn, [a.detach() for a in args], name)
    return watch.first


def _per_input_errors(
    analytic: torch.Tensor,
    numeric: torch.Tensor,
    error: torch.Tensor,
    spec: dict[str, Any],
    labels: list[str],
    args: list[torch.Tensor],
) -> list[InputError]:
    """Per input (or parameter): its block of Jacobian columns judged against atol + rtol * |numerical|."""
    allowed = spec["atol"] + spec["rtol"] * numeric.abs()
    per_input, start = [], 0
    for label, arg in zip(labels, args):
        columns = slice(start, start + arg.numel())
        block, bad = error[:, columns], error[:, columns] > allowed[:, columns]
        failed = int(bad.sum())
        per_input.append(
            InputError(
                input=label,
                shape=list(arg.shape),
                max_abs_error=float(block.max()),
                max_rel_error=float((block / numeric[:, columns].abs().clamp_min(spec["atol"])).max()),
                mismatched=failed,
                # autograd says exactly 0 wherever it disagrees: no graph reaches this input at all
                detached=failed > 0 and not bool(analytic[:, columns][bad].any()),
            )
        )
        start += arg.numel()
    return per_input


def _worst_entry(
    analytic: torch.Tensor, numeric: torch.Tensor, error: torch.Tensor, labels: list[str], sizes: list[int]
) -> dict[str, Any]:
    """The Jacobian entry with the largest error: which input (or parameter), which element of it."""
    out_index, in_index = divmod(int(error.argmax()), error.shape[1])
    worst_input = next(i for i in range(len(sizes)) if in_index < sum(sizes[: i + 1]))
    return {
        "input": labels[worst_input],
        "output_index": out_index,
        "input_index": in_index - sum(sizes[:worst_input]),
        "analytic": float(analytic[out_index, in_index]),
        "numerical": float(numeric[out_index, in_index]),
    }


def _gradcheck_finding(
    name: str, result: NumericalResult, spec: dict[str, Any], cast: dict[str, str] | None
) -> dict[str, Any]:
    wrong = [p for p in result.inputs if p.mismatched]
    detached = [p.input for p in wrong if p.detached]
    return finding(
        "gradcheck_failed",
        ERROR,
        f"the analytic gradient of {name} disagrees with finite differences w.r.t. "
        f"{', '.join(p.input for p in wrong)}: max abs error {result.max_abs_error:.3g}, "
        f"max rel error {result.max_rel_error:.3g} (atol {spec['atol']:g}, rtol {spec['rtol']:g})"
        + (
            f"; the function computes in {cast['dtype']} ({cast['op']}), which explains such an error"
            if cast and not detached
            else ""
        ),
        where=f"{name} ({wrong[0].input})",
        evidence={k: getattr(result, k) for k in ("max_abs_error", "max_rel_error", "worst")}
        | {"mismatched": {p.input: p.mismatched for p in wrong}, "low_precision": cast},
        suggestion=(
            f"The analytic gradient w.r.t. {', '.join(detached)} is exactly zero where finite differences "
            "are not: that input is detached or computed under no_grad inside the function (.detach(), "
            "torch.no_grad(), .item(), a numpy round trip), so autograd never sees it. Keep it in the graph."
            if detached
            else _cast_suggestion(cast)
            if cast
            else "Re-derive the backward for the named input (product and chain rule, the reduction "
            "over broadcast dimensions); compare against the same forward written with plain torch ops."
        ),
    )


def _cast_suggestion(cast: dict[str, str]) -> str:
    return (
        f"The function computes in {cast['dtype']} ({cast['op']} returns {cast['dtype']} from float64 inputs): "
        f"finite differences at this eps are then {cast['dtype']} rounding noise, so the error says nothing about "
        "the backward. Keep the function in float64 (no .float(), float32 buffers or autocast inside) and call "
        "gradient_check again; re-derive the backward only if it still fails."
    )


def _numerical_check(ctx: JobContext) -> dict[str, Any]:
    spec = ctx.req.numerical
    name = spec["function"]
    device = torch.device("cpu") if ctx.device.type == "mps" else ctx.device  # MPS has no float64
    torch.manual_seed(ctx.seed)
    fn, kind, params = _resolve_function(ctx, name, device)
    inputs = [torch.randn(*shape, dtype=torch.float64, device=device) for shape in spec["input_shapes"]]
    labels = [f"input[{i}]" for i in range(len(inputs))] + list(params)
    args = [t.clone().requires_grad_(True) for t in inputs + list(params.values())]
    sizes = [a.numel() for a in args]
    if sum(sizes) > MAX_JACOBIAN_SIDE:
        raise HarnessError(
            f"{name} has {sum(sizes)} input and parameter elements; the finite-difference check takes one forward "
            f"pass per element, so keep them at most {MAX_JACOBIAN_SIDE} (smaller input_shapes or layer sizes)",
            where=name,
        )
    cast = _low_precision(fn, args, name)
    analytic = _analytic_jacobian(fn, args, name)
    ctx.progress(1, 2, "analytic Jacobian done", force=True)
    numeric = _numerical_jacobian(fn, args, spec["eps"], name)
    error = (analytic - numeric).abs()
    error = torch.where(torch.isfinite(error), error, torch.full_like(error, math.inf))
    per_input = _per_input_errors(analytic, numeric, error, spec, labels, args)
    # both Jacobians under atol everywhere (a saturated softmax): they agree on nothing, so nothing passed
    zero = bool(analytic.abs().max() <= spec["atol"]) and bool(numeric.abs().max() <= spec["atol"])
    result = NumericalResult(
        function=name,
        kind=kind,
        passed=not zero and all(p.mismatched == 0 for p in per_input),
        max_abs_error=max(p.max_abs_error for p in per_input),
        max_rel_error=max(p.max_rel_error for p in per_input),
        eps=spec["eps"],
        atol=spec["atol"],
        rtol=spec["rtol"],
        inputs=per_input,
        worst=_worst_entry(analytic, numeric, error, labels, sizes),
    )
    return {**_numerical_verdict(result, spec, cast, zero), "details": asdict(GradientDetails(numerical=result))}


def _numerical_verdict(
    result: NumericalResult, spec: dict[str, Any], cast: dict[str, str] | None, zero: bool
) -> dict[str, Any]:
    """Summary and findings: a mismatch, a Jacobian that is zero on both sides (nothing compared), or a match."""
    if zero:
        found = finding(
            "nothing_measured",
            WARNING,
            f"both Jacobians of {result.function} are zero (every entry under atol {spec['atol']:g}) at the "
            "random N(0, 1) inputs: the function is flat there (a saturated softmax, a ReLU off everywhere, a "
            "constant), so the check compared nothing",
            where=result.function,
            evidence={"atol": spec["atol"], "max_abs_error": result.max_abs_error},
            suggestion="Check it where it has a gradient: a function of scaled inputs (e.g. x / 1000 for a "
            "temperature of 1/1000) or a smaller temperature, then call gradient_check again.",
        )
        return {"summary": f"Inconclusive: {found['message']}.", "findings": [found]}
    if not result.passed:
        found = _gradcheck_finding(result.function, result, spec, cast)
        return {"summary": f"gradcheck failed: {found['message']}.", "findings": [found]}
    return {
        "summary": f"The analytic gradient of {result.function} ({result.kind}) matches central finite differences in "
        f"float64 w.r.t. all {len(result.inputs)} input(s)/parameter(s): max abs error {result.max_abs_error:.2g}.",
        "findings": [],
    }


def run(ctx: JobContext[GradientRequest]) -> dict[str, Any]:
    if ctx.req.numerical:
        return _numerical_check(ctx)
    return _model_check(ctx)
