"""inspect_model, worker side: what is the model made of, and what shape comes out of each part?

One small batch goes through the model (eval mode, no gradients) with a hook on every
module, recording its output shape(s). Parameters are counted per module and in total,
each tensor once: a weight shared by two modules (tied embedding and output layers) is one
tensor, which torchinfo counts twice. Modules kept in a plain list/dict/tuple attribute are
not registered: .parameters(), .to(device) and state_dict() never see them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import torch
from torch import nn

from ..wire.findings import ERROR, INFO, finding, sort_findings
from ..wire.messages import InspectRequest
from ..worker import schedules
from ..worker.frozen_copies import Copy, find_copies
from ..worker.harness import inputs_of
from ..worker.job import JobContext
from .details import InspectDetails, ModuleRow
from .schedule_offset import schedule_findings

TREE_ROWS = 30  # modules in the details' tree; the deepest level that fits is shown, the rest is in full_report
TOP_MODULES = 5  # largest modules by their own parameters; params_by_type aggregates the rest
TRACE_STEPS = 30  # top-level blocks in the shape trace
LISTED = 10  # tied groups / unregistered containers quoted in details
CONTAINER_DEPTH = 3  # how deep a list of dicts of lists is searched for hidden modules
_MODULE_INTERNALS = frozenset(vars(nn.Module()))  # _parameters, _modules, hook dicts: not user attributes


def _shape(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return str(tuple(value.shape))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shape(v) for v in value[:8]) + (", ..." if len(value) > 8 else "") + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shape(v)}" for k, v in list(value.items())[:8]) + "}"
    return type(value).__name__


def _numel(params: Iterable[torch.Tensor]) -> int:
    return sum(p.numel() for p in params)  # .parameters() already yields a shared tensor once


@contextmanager
def _dense_attention() -> Iterator[None]:
    """PyTorch's eval/no_grad fast path for nn.TransformerEncoder and MultiheadAttention packs a padded
    batch into nested tensors, whose .shape raises inside our hooks; training never takes that path,
    so the slow path traces the shapes the user's model really has."""
    enabled = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(enabled)


def _trace_forward(
    ctx: JobContext, model: nn.Module, batch: Any
) -> tuple[dict[str, dict], str | None, BaseException | None]:
    """Per module name: call order, call count, first output shape. Also the input shape, and the
    exception if the forward pass raised (the modules reached so far are still recorded)."""
    seen: dict[str, dict[str, Any]] = {}

    def enter(name: str):
        def record(module: nn.Module, inputs: Any) -> None:
            entry = seen.setdefault(name, {"order": len(seen), "calls": 0, "out": None})
            entry["calls"] += 1

        return record

    def leave(name: str):
        def record(module: nn.Module, inputs: Any, output: Any) -> None:
            if seen[name]["out"] is None:
                seen[name]["out"] = _shape(output)

        return record

    handles = []
    for name, module in model.named_modules():
        handles += [module.register_forward_pre_hook(enter(name)), module.register_forward_hook(leave(name))]
    input_shape = None
    try:
        model.eval()  # no dropout, BatchNorm on running statistics: shapes and nothing else
        with torch.no_grad(), _dense_attention():
            if ctx.harness.defines["forward"] or not ctx.harness.defines["loss_fn"]:
                # forward(model, batch) may take several inputs (src and tgt, a dict): show the whole batch
                input_shape = _shape(batch) if ctx.harness.defines["forward"] else _shape(inputs_of(batch))
                ctx.harness.forward(model, batch)
            else:
                ctx.harness.loss(model, batch)  # the only way we know the model is called
    except Exception as exc:  # report how far it got, and the counts anyway
        return seen, input_shape, exc
    finally:
        for handle in handles:
            handle.remove()
    return seen, input_shape, None


def _module_rows(model: nn.Module, seen: dict[str, dict]) -> list[dict[str, Any]]:
    rows = []
    owned: set[int] = set()  # a tied tensor belongs to the first module that holds it, so own counts add up
    for name, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if id(p) not in owned]
        owned.update(id(p) for p in own)
        first = next(module.parameters(), None)
        trace = seen.get(name, {})
        rows.append(
            {
                "name": name or "<model>",
                "depth": 0 if not name else name.count(".") + 1,
                "type": type(module).__name__,
                "out": trace.get("out"),
                "calls": trace.get("calls", 0),
                "params": _numel(module.parameters()),
                "trainable": _numel(p for p in module.parameters() if p.requires_grad),
                "own_params": _numel(own),
                "dtype": str(first.dtype).removeprefix("torch.") if first is not None else None,
                "device": str(first.device) if first is not None else None,
            }
        )
    return rows


def _tree(rows: list[dict[str, Any]]) -> tuple[list[ModuleRow], int]:
    """The deepest levels that fit in TREE_ROWS rows (at least the top level), compact; and that depth."""
    depth = 1
    while depth < 6 and sum(r["depth"] <= depth + 1 for r in rows) <= TREE_ROWS:
        depth += 1
    shown = [r for r in rows if r["depth"] <= depth][:TREE_ROWS]
    depth = max(r["depth"] for r in shown)
    compact = [
        ModuleRow(
            name=r["name"],
            depth=r["depth"],
            type=r["type"],
            out=r["out"],
            params=r["params"],
            trainable=r["trainable"] if r["trainable"] != r["params"] else None,
            calls=r["calls"] if r["calls"] > 1 else None,
        )
        for r in shown
    ]
    return compact, depth


def _shape_trace(model: nn.Module, seen: dict[str, dict], input_shape: str | None) -> list[str]:
    """input → each top-level block's output, in the order the forward pass ran them. A container
    that is never called itself (ModuleList, ModuleDict) shows its children instead."""
    blocks = []
    for name, child in model.named_children():
        if name in seen:
            blocks.append(name)
        else:
            blocks += [f"{name}.{sub}" for sub, _ in child.named_children() if f"{name}.{sub}" in seen]
    blocks.sort(key=lambda n: seen[n]["order"])
    runs: list[list[str]] = []  # consecutive siblings with the same output shape: one step (blocks.0..blocks.11)
    for name in blocks:
        last = runs[-1][-1] if runs else None
        if last and last.rpartition(".")[0] == name.rpartition(".")[0] != "" and seen[last]["out"] == seen[name]["out"]:
            runs[-1].append(name)
        else:
            runs.append([name])
    steps = [f"input {input_shape}"] if input_shape else []
    for run in runs[:TRACE_STEPS]:
        label = run[0] if len(run) == 1 else f"{run[0]}..{run[-1]} ({len(run)}x)"
        steps.append(f"{label}: {seen[run[0]]['out']}")
    if len(runs) > TRACE_STEPS:
        steps.append(f"... {len(runs) - TRACE_STEPS} more blocks (see full_report)")
    if "" in seen:
        steps.append(f"output {seen['']['out']}")
    return steps


def _tied(model: nn.Module) -> list[dict[str, Any]]:
    by_tensor: dict[int, list[str]] = {}
    sizes: dict[int, int] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        by_tensor.setdefault(id(p), []).append(name)
        sizes[id(p)] = p.numel()
    return [{"names": names, "numel": sizes[key]} for key, names in by_tensor.items() if len(names) > 1]


def _hidden_modules(value: Any, depth: int = 0) -> Iterator[nn.Module]:
    if isinstance(value, nn.Module):
        yield value
    elif depth < CONTAINER_DEPTH and isinstance(value, (list, tuple, set, frozenset, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _hidden_modules(item, depth + 1)


def _unregistered(model: nn.Module) -> list[dict[str, Any]]:
    """Plain-container attributes holding modules that the module tree does not contain."""
    registered = {id(m) for m in model.modules()}
    visible = {id(t) for t in [*model.parameters(), *model.buffers()]}
    found = []
    for name, module in model.named_modules():
        for attr, value in vars(module).items():
            if (
                attr in _MODULE_INTERNALS
                or isinstance(value, nn.Module)
                or not isinstance(value, (list, tuple, set, frozenset, dict))
            ):
                continue
            hidden = [m for m in _hidden_modules(value) if id(m) not in registered]
            if not hidden:
                continue
            params = {id(p): p for m in hidden for p in m.parameters() if id(p) not in visible}
            buffers = {id(b): b for m in hidden for b in m.buffers() if id(b) not in visible}
            found.append(
                {
                    "where": f"{name}.{attr}" if name else attr,
                    "container": type(value).__name__,
                    "modules": len(hidden),
                    "types": sorted({type(m).__name__ for m in hidden}),
                    "hidden_params": _numel(params.values()),
                    "hidden_buffers": _numel(buffers.values()),
                }
            )
    return found


def _unregistered_finding(found: list[dict[str, Any]]) -> dict[str, Any]:
    params = sum(f["hidden_params"] for f in found)
    state = params + sum(f["hidden_buffers"] for f in found)
    first = found[0]
    places = ", ".join(f"{f['where']} ({f['container']} of {f['modules']} {'/'.join(f['types'])})" for f in found[:3])
    message = f"modules kept in plain containers, invisible to .parameters(): {places}"
    if state:
        message += f"; {params:,} parameters there are never trained, moved by .to(device) or saved in state_dict()"
    return finding(
        "unregistered_modules",
        ERROR if state else INFO,
        message,
        where=first["where"],
        evidence={"containers": found[:LISTED], "hidden_params": params},
        suggestion="Hold them in nn.ModuleList / nn.ModuleDict (or nn.Sequential) instead of a list/dict/tuple.",
    )


def _copies_text(copies: list[Copy]) -> str:
    return ", ".join(f"{c.copy} mirrors {c.source}" for c in copies[:3])


def _count_finding(
    total: int, expected: int, tolerance: float, blocks: dict[str, int], hidden: int, copies: list[Copy]
) -> dict | None:
    """The model's count against the paper's: the total, or the total less its frozen copies (a target
    network or an EMA copy is a second copy of the paper's parameters, not more of them)."""
    in_copies = sum(c.params for c in copies)
    counted = min((total, total - in_copies), key=lambda n: abs(n - expected))
    diff = counted - expected
    relative = abs(diff) / expected
    if diff == 0:
        return None
    evidence = {
        "total": total,
        "expected": expected,
        "difference": diff,
        "relative": relative,
        "tolerance": tolerance,
        "top_level_blocks": blocks,
    }
    if hidden:
        evidence["hidden_in_unregistered_modules"] = hidden
    has = f"{total:,} parameters"
    if in_copies:
        evidence.update(in_copies=in_copies, without_copies=total - in_copies)
        has += f" ({in_copies:,} in frozen copies: {_copies_text(copies)}; {total - in_copies:,} without them)"
    if relative > tolerance:
        return finding(
            "param_count_mismatch",
            ERROR,
            f"the model has {has}, the paper {expected:,}: {diff:+,} ({relative:.2%}, tolerance "
            f"{tolerance:.2%})" + (f"; {hidden:,} more sit in unregistered modules" if hidden else ""),
            evidence=evidence,
            suggestion="Compare the per-block counts in details.tree with the paper's layer sizes: a wrong width, "
            "kernel size, a missing/extra bias or an untied embedding shows up as the difference.",
        )
    return finding(
        "param_count_mismatch",
        INFO,
        f"the model has {has}, {diff:+,} ({relative:.3%}) from the expected {expected:,}: within tolerance "
        f"{tolerance:.2%}; if the paper's count is exact, pass tolerance=0",
        evidence=evidence,
    )


def _findings(
    ctx: JobContext, model, seen: dict, failure, unregistered: list, total: int, hidden: int, copies: list[Copy]
) -> list[dict]:
    """A forward pass that raised, modules .parameters() cannot see, a count off the paper's."""
    findings = []
    if failure is not None:
        last = max(seen, key=lambda n: seen[n]["order"], default=None)
        findings.append(ctx.error_finding(failure, during=f"the forward pass (last module entered: {last or 'none'})"))
    if unregistered:
        findings.append(_unregistered_finding(unregistered))
    if (flat := schedules.buffer_finding(model)) is not None:
        findings.append(flat)
    expected = ctx.req.expected_param_count
    if expected is not None:
        blocks = {name: _numel(child.parameters()) for name, child in model.named_children()}
        mismatch = _count_finding(
            total, expected, ctx.req.tolerance, dict(list(blocks.items())[:LISTED]), hidden, copies
        )
        if mismatch is not None:
            findings.append(mismatch)
    return findings


def _params_by_type(rows: list[dict[str, Any]]) -> dict[str, int]:
    by_type: dict[str, int] = {}
    for r in rows:
        if r["own_params"]:
            by_type[r["type"]] = by_type.get(r["type"], 0) + r["own_params"]
    return by_type


def _dtypes(model: nn.Module) -> dict[str, int]:
    """Parameter count per 'dtype on device'."""
    dtypes: dict[str, int] = {}
    for p in model.parameters():
        key = f"{str(p.dtype).removeprefix('torch.')} on {p.device}"
        dtypes[key] = dtypes.get(key, 0) + p.numel()
    return dtypes


def _counts(model: nn.Module, rows: list[dict], tied: list[dict], hidden: int, copies: list[Copy]) -> dict[str, int]:
    total = _numel(model.parameters())
    trainable = _numel(p for p in model.parameters() if p.requires_grad)
    return {
        "total": total,
        "trainable": trainable,
        "frozen": total - trainable,
        "buffers": _numel(model.buffers()),
        "modules": len(rows),
        "counted_twice_by_naive_sum": sum(t["numel"] * (len(t["names"]) - 1) for t in tied),
        "in_unregistered_modules": hidden,
        "in_frozen_copies": sum(c.params for c in copies),
    }


def run(ctx: JobContext[InspectRequest]) -> dict[str, Any]:
    model = ctx.build_model()
    batch = ctx.batch(ctx.req.batch_size, "train")
    ctx.progress(0, 1, "forward pass with shape hooks", force=True)
    seen, input_shape, failure = _trace_forward(ctx, model, batch)
    rows = _module_rows(model, seen)
    tree, depth = _tree(rows)
    total = _numel(model.parameters())
    tied = _tied(model)
    unregistered = _unregistered(model)
    hidden = sum(u["hidden_params"] for u in unregistered)
    copies = find_copies(model, ctx.harness.frozen_copies)
    findings = sort_findings(
        _findings(ctx, model, seen, failure, unregistered, total, hidden, copies) + schedule_findings(model)
    )
    expected = ctx.req.expected_param_count
    counts = _counts(model, rows, tied, hidden, copies)
    top = sorted((r for r in rows if r["own_params"]), key=lambda r: -r["own_params"])[:TOP_MODULES]
    details = InspectDetails(
        counts=counts,
        expected_param_count=expected,
        shape_trace=_shape_trace(model, seen, input_shape),
        tree=tree,
        tree_depth=depth,
        top_modules=[{"name": r["name"], "type": r["type"], "params": r["own_params"]} for r in top],
        params_by_type=_params_by_type(rows),
        tied=tied[:LISTED],
        unregistered=unregistered[:LISTED],
        dtypes=_dtypes(model),
        copies=[asdict(c) for c in copies[:LISTED]],
    )
    problems = [f for f in findings if f["severity"] != INFO]
    output = seen.get("", {}).get("out")
    summary = (
        f"{total:,} parameters ({counts['trainable']:,} trainable) in {len(rows)} modules"
        + (f", {counts['in_frozen_copies']:,} of them in frozen copies ({_copies_text(copies)})" if copies else "")
        + (f", {len(tied)} tied group(s) counted once" if tied else "")
        + (f"; output {output}" if output else "")
    )
    if problems:
        summary = f"{len(problems)} problem(s); first: {problems[0]['message']}. ({summary})"
    elif expected is not None:
        summary += f"; matches the expected {expected:,} within {ctx.req.tolerance:.2%}."
    full = {"modules": rows} if len(rows) > len(tree) else None
    return {"summary": summary, "findings": findings, "details": asdict(details), "full_report": full}
