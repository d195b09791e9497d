"""inspect_data, worker side: summarise each split's batch, test determinism and overlap.

No model is built: everything comes from get_batch. Per split we call get_batch twice
with the same arguments (the contract says the answers must be identical), summarise
every tensor of the first answer, then hash the input rows of a larger sample of each
split to find examples that sit in two splits at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import torch

from ..wire.compact import significant
from ..wire.findings import ERROR, INFO, WARNING, finding, sort_findings
from ..wire.messages import DataRequest
from ..worker.failures import HarnessError, user_frames
from ..worker.harness import inputs_of, targets_of
from ..worker.job import JobContext, seed_everything
from ..worker.scales import SMALL_MAX, scale_problem
from .details import ChannelStats, DataDetails, LabelStats, SplitOverlap, SplitSummary, TensorSummary
from .mechanisms import label_leak, label_leak_finding, shared_noise_findings, shared_rows
from .transductive import transductive

# What a harness raises for a split it does not have: {"train": 0}[split], a ValueError
# naming the known splits, `assert split in (...)`.
UNSUPPORTED_SPLIT = (ValueError, KeyError, NotImplementedError, AssertionError)
PIXEL_LEVELS = (16, 255)  # whole numbers up to these, stored as pixels: 4-bit (8x8 digits) and 8-bit images
# Said once, not per split: notes about the harness, and a leak that get_batch builds into every split alike.
HARNESS_NOTES = frozenset({"num_classes_inferred", "inputs_not_found", "input_carries_target"})
LISTED_CHANNELS = 16
LISTED_LABELS = 20
LISTED_TENSORS = 16
LISTED_PAIRS = 5
LISTED_ITEMS = 8  # of a list/tuple in the structure string (a list of 256 file names is one line)
LISTED_COLUMNS = 10


def leaves(batch: Any, path: str = "batch") -> Iterator[tuple[str, Any]]:
    """(path, leaf) for every leaf of a nested tuple/list/dict batch, in order."""
    if isinstance(batch, dict):
        for key, value in batch.items():
            yield from leaves(value, f"{path}[{key!r}]")
    elif isinstance(batch, (list, tuple)):
        for index, item in enumerate(batch):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, batch


def structure(batch: Any) -> str:
    """The nesting of a batch with dtype[shape] per tensor: (float32[256, 16], int64[256])."""
    if isinstance(batch, torch.Tensor):
        return f"{str(batch.dtype).removeprefix('torch.')}{list(batch.shape)}"
    if isinstance(batch, dict):
        return "{" + ", ".join(f"{key!r}: {structure(value)}" for key, value in batch.items()) + "}"
    if isinstance(batch, (list, tuple)):
        shown = [structure(item) for item in batch[:LISTED_ITEMS]]
        inner = ", ".join(shown + ([f"... {len(batch)} items"] if len(batch) > LISTED_ITEMS else []))
        if isinstance(batch, list):
            return f"[{inner}]"
        return f"{type(batch).__name__ if hasattr(batch, '_fields') else ''}({inner})"
    return type(batch).__name__


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_float(tensor: torch.Tensor) -> torch.Tensor:
    """A CPU float copy for statistics: float32 is exact enough for 32-bit data and halves the memory."""
    wide = tensor.dtype in (torch.float64, torch.int64, torch.int32)
    return tensor.detach().cpu().to(torch.float64 if wide else torch.float32)


def _range(values: torch.Tensor) -> list[float | None]:
    finite = values[torch.isfinite(values)]
    return [significant(finite.min()), significant(finite.max())] if finite.numel() else [None, None]


def _channels(values: torch.Tensor) -> ChannelStats:
    """Mean and std along dim 1 over finite elements: channels of (B, C, ...), features of (B, F)."""
    per = values.transpose(0, 1).reshape(values.shape[1], -1)  # (C, everything else)
    per = per.masked_fill(~torch.isfinite(per), float("nan"))
    mean = per.nanmean(dim=1)
    std = (per - mean[:, None]).square().nanmean(dim=1).sqrt()
    stats = ChannelStats(count=values.shape[1], mean_range=_range(mean), std_range=_range(std))
    if values.dim() >= 3:
        stats.mean = [significant(v) for v in mean[:LISTED_CHANNELS]]
        stats.std = [significant(v) for v in std[:LISTED_CHANNELS]]
    return stats


def _labels(targets: torch.Tensor, num_classes: int | None, ignore_index: int) -> LabelStats:
    """Range and histogram of the class labels; targets equal to ignore_index are padding, counted apart."""
    flat = targets.detach().cpu().reshape(-1)
    labels = flat[flat != ignore_index]
    values, counts = torch.unique(labels, return_counts=True)
    top = counts.sort(descending=True, stable=True).indices[:LISTED_LABELS]
    listed = sorted(zip(values[top].tolist(), counts[top].tolist()))
    return LabelStats(
        num_classes=num_classes,
        min=int(values[0]) if len(values) else None,
        max=int(values[-1]) if len(values) else None,
        distinct=len(values),
        histogram=[list(pair) for pair in listed],
        other=labels.numel() - sum(count for _, count in listed),
        ignored=flat.numel() - labels.numel(),
        ignore_index=ignore_index,
    )


def _is_label_tensor(tensor: torch.Tensor) -> bool:
    return not (tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool)


def pixel_levels(tensor: torch.Tensor, values: torch.Tensor) -> int | None:
    """16 or 255 when a tensor holds raw pixel levels: whole numbers in [0, 16] (scikit-learn's digits)
    or [0, 255] (8-bit images), whatever their mean and std; None otherwise.

    Token ids are whole numbers too, so the dtype and shape decide: uint8 and float tensors of 2+ dims,
    and integer tensors of 3+ dims (B, H, W) / (B, C, H, W), are images; an int64 (B, T) is a sequence of ids.
    A 0/1 mask or binarised image (max 1) is not raw."""
    image_like = tensor.is_floating_point() or tensor.dtype == torch.uint8 or tensor.dim() >= 3
    if tensor.dtype == torch.bool or tensor.dim() < 2 or not image_like:
        return None
    finite = values[torch.isfinite(values)]
    if not finite.numel() or finite.min() < 0 or finite.max() <= 1 or bool((finite != finite.round()).any()):
        return None
    return next((levels for levels in PIXEL_LEVELS if finite.max() <= levels), None)


def summarise(path: str, tensor: torch.Tensor, role: str | None, harness: Any) -> TensorSummary:
    summary = TensorSummary(
        path=path,
        role=role,
        shape=list(tensor.shape),
        dtype=str(tensor.dtype).removeprefix("torch."),
        device=str(tensor.device),
    )
    if tensor.is_complex() or tensor.numel() == 0:
        return summary
    values = _as_float(tensor)
    finite = values[torch.isfinite(values)]
    summary.nan = int(values.isnan().sum())
    summary.inf = int(values.isinf().sum())
    if finite.numel():
        summary.min, summary.max = significant(finite.min()), significant(finite.max())
        summary.mean, summary.std = significant(finite.mean()), significant(finite.std(correction=0))
    if tensor.is_floating_point() and tensor.dim() >= 2 and tensor.shape[1] > 0:
        summary.channels = _channels(values)
    if role == "targets" and _is_label_tensor(tensor):
        summary.labels = _labels(tensor, harness.num_classes, harness.ignore_index)
    elif role != "targets":
        summary.pixel_levels = pixel_levels(tensor, values)
    return summary


def _non_finite_finding(split: str, path: str, tensor: torch.Tensor, summary: TensorSummary) -> dict[str, Any]:
    bad = ~torch.isfinite(tensor.detach().cpu())
    evidence: dict[str, Any] = {"nan": summary.nan, "inf": summary.inf, "shape": summary.shape}
    message = f"{split} {path} holds {summary.nan} NaN and {summary.inf} Inf value(s)"
    if tensor.dim() >= 1:
        rows = int(bad.reshape(len(bad), -1).any(dim=1).sum())
        evidence["examples"] = rows
        message += f" in {rows} of {len(bad)} examples"
    if tensor.dim() >= 2:
        columns = bad.transpose(0, 1).reshape(bad.shape[1], -1).any(dim=1).nonzero().flatten().tolist()
        evidence["dim1_indices"] = columns[:LISTED_COLUMNS]
        message += f", at dim-1 index {columns[:LISTED_COLUMNS]}" + (" ..." if len(columns) > LISTED_COLUMNS else "")
    return finding(
        "non_finite_inputs",
        ERROR,
        message,
        where=f"{split} {path}",
        evidence=evidence,
        suggestion="Impute or drop missing values and check divisions/logs in the preprocessing before batching.",
    )


def _label_findings(split: str, path: str, labels: LabelStats) -> list[dict[str, Any]]:
    low, high, classes = labels.min, labels.max, labels.num_classes
    if low is None:
        return []  # every target is padding (ignore_index): nothing to range-check
    where = f"{split} {path}"
    evidence = {"min": low, "max": high, "num_classes": classes, "distinct": labels.distinct}
    if labels.ignored:
        evidence.update(ignored=labels.ignored, ignore_index=labels.ignore_index)
    if low < 0 or (classes is not None and high >= classes):
        allowed = f"[0, {classes})" if classes is not None else "[0, ...)"
        message = f"{split} labels span [{low}, {high}], outside {allowed}"
        if classes is not None and low == 1 and high == classes:
            message += ": they look numbered from 1; subtract 1"
        return [
            finding(
                "label_out_of_range",
                ERROR,
                message,
                where=where,
                evidence=evidence,
                suggestion=(
                    "Map labels to 0..num_classes-1 (cross-entropy indexes logits with them) or fix num_classes."
                ),
            )
        ]
    if classes is None:
        message = (
            f"the harness defines no num_classes; {split} labels span [{low}, {high}], implying {high + 1} classes"
        )
        if low == 1:
            message += " (no label 0: if classes are numbered from 1, subtract 1)"
        return [
            finding(
                "num_classes_inferred",
                INFO,
                message,
                where=where,
                evidence=evidence,
                suggestion="Define num_classes in the harness: out-of-range labels are then caught and the init loss "
                "checked against ln(num_classes).",
            )
        ]
    return []


def _scale_problem(summary: TensorSummary) -> tuple[str, str] | None:
    """(message tail, suggestion) when an input tensor is not normalised, else None."""
    mean, std, low, high, levels = summary.mean, summary.std, summary.min, summary.max, summary.pixel_levels
    if levels is not None:
        return (
            f"whole numbers in [{low:g}, {high:g}] ({summary.dtype}, mean {mean:.3g}, std {std:.3g}): raw pixel "
            f"levels 0..{levels}, not normalised",
            f"Divide by {levels} and standardise with the training set's mean and std (per channel for colour "
            "images), in get_batch, before the model sees them.",
        )
    if mean is None or std is None or not summary.dtype.startswith(("float", "bfloat")):
        return None  # integer inputs that are not pixels are ids (tokens, actions): they have no scale
    problem = scale_problem(mean, std, low, high)
    if problem == "large":
        return (
            f"mean {mean:g} and std {std:g} (range [{low:g}, {high:g}]): raw units, not standardised",
            "Scale the inputs (pixels: /255), then standardise with the training set's per-channel mean and std.",
        )
    if problem == "tiny":
        return (
            f"std {std:g} and all |x| < {SMALL_MAX:g}: the signal was scaled (nearly) away",
            "Look for a scaling applied twice (e.g. /255 after ToTensor already did) or a wrong constant.",
        )
    return None


def _scale_finding(split: str, summary: TensorSummary) -> dict[str, Any] | None:
    problem = _scale_problem(summary)
    if problem is None:
        return None
    evidence = {key: getattr(summary, key) for key in ("mean", "std", "min", "max", "dtype", "pixel_levels")}
    if summary.channels is not None:
        evidence["channel_mean_range"] = summary.channels.mean_range
        evidence["channel_std_range"] = summary.channels.std_range
    where = f"{split} {summary.path}"
    message, suggestion = problem
    return finding(
        "unnormalized_inputs",
        WARNING,
        f"{where} holds {message}",
        where=where,
        evidence=evidence,
        suggestion=suggestion,
    )


def _differences(first: Any, second: Any) -> dict[str, Any]:
    """Which tensors of two batches differ, and in how many elements (NaN equals NaN)."""
    if structure(first) != structure(second):
        return {"structure": [_short(structure(first), 200), _short(structure(second), 200)]}
    differing = {}
    for (path, a), (_, b) in zip(leaves(first), leaves(second)):
        if isinstance(a, torch.Tensor):
            a, b = a.detach().cpu(), b.detach().cpu()
            unequal = a != b
            if a.is_floating_point() or a.is_complex():
                unequal &= ~(a.isnan() & b.isnan())
            count = int(unequal.sum())
            if count:
                differing[path] = {"elements": count, "of": a.numel()}
    return differing


def _row_digests(inputs: torch.Tensor) -> list[bytes]:
    """One digest per example: the exact bytes of its row of the input tensor."""
    rows = inputs.detach().cpu().contiguous().reshape(len(inputs), -1)
    raw = rows.view(torch.uint8).numpy()  # (N, bytes per row): bit patterns, so 1.0 != 1.0000001
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in raw]


def _overlap(a: str, digests_a: list[bytes], b: str, digests_b: list[bytes]) -> tuple[SplitOverlap, bool]:
    """Examples of b whose input row also occurs in a; and whether every one sits at the same index."""
    first_index: dict[bytes, int] = {}
    for i, digest in enumerate(digests_a):
        first_index.setdefault(digest, i)
    pairs = [[first_index[d], j] for j, d in enumerate(digests_b) if d in first_index]
    same_rows = len(pairs) == len(digests_b) and all(i == j for i, j in pairs)
    sampled = [len(digests_a), len(digests_b)]
    return SplitOverlap(splits=[a, b], sampled=sampled, overlapping=len(pairs), pairs=pairs[:LISTED_PAIRS]), same_rows


def _overlap_finding(result: SplitOverlap, same_rows: bool) -> dict[str, Any]:
    (a, b), (n_a, n_b), count, pairs = result.splits, result.sampled, result.overlapping, result.pairs
    shown = ", ".join(f"{b}[{j}] = {a}[{i}]" for i, j in pairs[:3])
    message = f"{count} of {n_b} sampled {b} examples also appear among {n_a} {a} examples (e.g. {shown})"
    if same_rows:
        message += "; get_batch seems to ignore its split argument"
    return finding(
        "split_overlap",
        ERROR,
        message,
        where=f"{a}/{b}",
        evidence={"overlapping": count, "sampled": [n_a, n_b], "pairs": pairs},
        suggestion="Split the data once, before shuffling or augmenting, into disjoint index ranges; drop duplicates. "
        f"Metrics on {b} are inflated until then.",
    )


class SplitInspection:
    """One split: its batch summarised, its determinism checked, its input rows hashed."""

    def __init__(self, ctx: JobContext, split: str):
        self.ctx = ctx
        self.split = split
        self.summary = SplitSummary(split=split, supported=True)
        self.findings: list[dict[str, Any]] = []
        self.batch: Any = None
        self.all_tensors: list[TensorSummary] = []

    def get_batch(self, size: int) -> Any:
        """get_batch(size, split); a refused split or a failure becomes a finding and None."""
        try:
            return self.ctx.harness.get_batch(size, self.split)
        except Exception as exc:  # the user's data code: every failure is reported, not raised
            self.summary.error = f"{type(exc).__name__}: {exc}"[:300]
            if self.split != "train" and isinstance(exc, UNSUPPORTED_SPLIT):
                self.summary.supported = False
                frames = user_frames(exc, self.ctx.root)
                self.findings.append(
                    finding(
                        "split_unsupported",
                        INFO,
                        f"get_batch({size}, {self.split!r}) raised {type(exc).__name__}: {str(exc)[:200]}",
                        where=frames[-1]["where"] if frames else self.split,
                        evidence={"split": self.split},
                        suggestion="Ignore it if the paper has no such split; otherwise add it to get_batch.",
                    )
                )
            else:
                self.findings.append(self.ctx.error_finding(exc, during=f"get_batch({size}, {self.split!r})"))
            return None

    def inspect(self, batch_size: int) -> None:
        self.batch = self.get_batch(batch_size)
        if self.batch is None:
            return
        self.summary.structure = _short(structure(self.batch), 400)
        self._summarise_tensors()
        again = self.get_batch(batch_size)
        if again is not None:
            self._check_determinism(batch_size, again)

    def input_scale(self) -> str:
        """with inputs mean m, std s: for the summary line, float inputs only (token ids have no scale)."""
        for tensor in self.all_tensors:
            if tensor.role == "inputs" and "float" in tensor.dtype and tensor.std is not None:
                return f" with inputs mean {tensor.mean:.3g}, std {tensor.std:.3g}"
        return ""

    def _roles(self) -> dict[int, str]:
        roles = {}
        targets = targets_of(self.batch)
        if targets is not None:
            roles[id(targets)] = "targets"
        try:
            roles[id(inputs_of(self.batch))] = "inputs"
        except HarnessError as exc:
            # Valid for the contract; only the overlap and scale checks need the inputs.
            self.findings.append(
                finding(
                    "inputs_not_found",
                    INFO,
                    f"{exc}; the overlap and scale checks were skipped",
                    where="get_batch",
                    suggestion="Tools that feed the model inputs (inspect_model, check_dependencies) need them too.",
                )
            )
        return roles

    def _summarise_tensors(self) -> None:
        roles = self._roles()
        for path, leaf in leaves(self.batch):
            if not isinstance(leaf, torch.Tensor):
                continue
            role = roles.get(id(leaf))
            summary = summarise(path, leaf, role, self.ctx.harness)
            self.all_tensors.append(summary)
            if summary.nan or summary.inf:
                self.findings.append(_non_finite_finding(self.split, path, leaf, summary))
            if summary.labels is not None:
                self.findings.extend(_label_findings(self.split, path, summary.labels))
            # Every input of a multi-input or dict batch, not only the one other tools feed the model;
            # a 1-D extra (lengths, timesteps) is not a signal to normalise.
            if role == "inputs" or (role is None and leaf.dim() >= 2):
                scale = _scale_finding(self.split, summary)
                if scale:
                    self.findings.append(scale)
        self.summary.tensors = self.all_tensors[:LISTED_TENSORS]
        self._check_label_leak()

    def _check_label_leak(self) -> None:
        """An integer input that shows its own target at the supervised positions (batch_mechanisms)."""
        targets = targets_of(self.batch)
        try:
            inputs = inputs_of(self.batch)
        except HarnessError:
            return
        if targets is None or inputs is targets:
            return
        evidence = label_leak(inputs, targets, self.ctx.harness.ignore_index)
        if evidence is not None:
            paths = {id(leaf): path for path, leaf in leaves(self.batch)}
            self.findings.append(label_leak_finding(self.split, paths[id(inputs)], paths[id(targets)], evidence))

    def shared_rows(self) -> dict[str, torch.Tensor]:
        """path -> the row every example of this split's batch repeats (a candidate shared draw)."""
        if self.batch is None:
            return {}
        try:
            inputs = inputs_of(self.batch)
        except HarnessError:
            return {}
        return shared_rows(list(leaves(self.batch)), inputs)

    def _check_determinism(self, batch_size: int, again: Any) -> None:
        differing = _differences(self.batch, again)
        self.summary.deterministic = not differing
        if not differing:
            return
        if "structure" in differing:
            what = f"batches of different structure: {differing['structure'][0]} then {differing['structure'][1]}"
        else:
            what = "; ".join(f"{path}: {d['elements']} of {d['of']} elements differ" for path, d in differing.items())
        self.findings.append(
            finding(
                "nondeterministic_batch",
                ERROR,
                f"two calls of get_batch({batch_size}, {self.split!r}) returned different batches ({what})",
                where=f"{self.split} get_batch",
                evidence={"differing": differing},
                suggestion="Draw from a torch.Generator seeded per split inside get_batch, not the global RNG; "
                "otherwise every other tool's numbers move between calls.",
            )
        )

    def row_digests(self, sample: int, batch_size: int) -> list[bytes] | None:
        """Digests of the input rows of `sample` examples (the inspected batch when that is enough)."""
        if self.batch is None:
            return None
        batch = self.batch
        if sample > batch_size:
            try:
                batch = self.ctx.harness.get_batch(sample, self.split)
            except Exception:  # a harness may refuse more examples than it has: hash what we inspected
                pass
        try:
            inputs = inputs_of(batch)
        except HarnessError:
            return None  # already reported while summarising
        return _row_digests(inputs[:sample]) if inputs.dim() >= 1 else None


def _summary_line(inspections: list[SplitInspection], overlaps: list[SplitOverlap], findings: list[dict]) -> str:
    problems = [f for f in findings if f["severity"] != INFO]
    if problems:
        return f"{len(problems)} problem(s); first: {problems[0]['message']}."
    inspected = [i for i in inspections if i.batch is not None]
    if not inspected:
        errors = "; ".join(f"{i.split}: {i.summary.error}" for i in inspections)
        return f"get_batch supports none of the requested splits ({errors})."
    parts = [f"{i.split}: {_short(i.summary.structure, 120)}{i.input_scale()}" for i in inspected]
    line = "; ".join(parts) + ". get_batch is deterministic"
    names = ", ".join(i.split for i in inspected)
    if any(o.overlapping for o in overlaps):  # no problem found: one graph, its label masks disjoint
        line += f"; {names} share one graph's nodes by design and label disjoint ones"
    elif overlaps:
        line += f"; no identical examples across {names}"
    refused = [i.split for i in inspections if not i.summary.supported]
    if refused:
        line += f"; split(s) {refused} not supported"
    return line + ". Next: inspect_model."


def _first_of_each_note(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Notes about the harness as a whole repeat in every split: keep the first of each."""
    seen, kept = set(), []
    for item in findings:
        if item["code"] in HARNESS_NOTES:
            if item["code"] in seen:
                continue
            seen.add(item["code"])
        kept.append(item)
    return kept


def _split_overlaps(
    ctx: JobContext, inspections: list[SplitInspection], sample: int, batch_size: int
) -> tuple[list[SplitOverlap], list[dict[str, Any]]]:
    """Overlap of every pair of inspected splits, and a finding for each pair that shares examples."""
    digests = {}
    for index, inspection in enumerate(inspections):
        ctx.progress(len(inspections) + index, 2 * len(inspections), f"hashing {inspection.split}")
        rows = inspection.row_digests(sample, batch_size)
        if rows is not None:
            digests[inspection.split] = rows
    names = list(digests)
    batches = {i.split: i.batch for i in inspections}
    overlaps, findings = [], []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            result, same_rows = _overlap(a, digests[a], b, digests[b])
            if same_rows and (graph := transductive(a, batches[a], b, batches[b])) is not None:
                findings += graph  # one graph in every split: the labelled rows must differ, not the rows
            elif result.overlapping:
                findings.append(_overlap_finding(result, same_rows))
            overlaps.append(result)
    return overlaps, findings


def _shared_draws(
    ctx: JobContext, inspections: list[SplitInspection], batch_size: int
) -> dict[str, dict[str, torch.Tensor]]:
    """split -> path -> the row each of its batch's examples repeats. With one split only (a harness without
    a test split), get_train_batch's step 1 is the second draw to compare with (not an on-policy one: no model)."""
    shared = {i.split: i.shared_rows() for i in inspections}
    harness = ctx.harness
    if sum(bool(rows) for rows in shared.values()) != 1 or harness.get_train_batch_fn is None or harness.on_policy:
        return shared
    step = SplitInspection(ctx, "get_train_batch step 1")
    try:
        step.batch = ctx.train_batch(batch_size, 1)
    except Exception:  # get_train_batch is judged by the tools that train; here it only helps
        return shared
    return {**shared, step.split: step.shared_rows()}


def run(ctx: JobContext[DataRequest]) -> dict[str, Any]:
    batch_size, splits, sample = ctx.req.batch_size, ctx.req.splits, ctx.req.overlap_sample
    seed_everything(ctx.seed)  # once: reseeding between the two calls would hide a get_batch on the global RNG
    inspections = []
    for index, split in enumerate(splits):
        ctx.progress(index, 2 * len(splits), f"inspecting {split}")
        inspection = SplitInspection(ctx, split)
        inspection.inspect(batch_size)
        inspections.append(inspection)
    overlaps, overlap_findings = _split_overlaps(ctx, inspections, sample, batch_size) if sample > 0 else ([], [])
    shared = shared_noise_findings(_shared_draws(ctx, inspections, batch_size))
    findings = [f for inspection in inspections for f in inspection.findings] + overlap_findings + shared
    findings = sort_findings(_first_of_each_note(findings))
    payload = {
        "summary": _summary_line(inspections, overlaps, findings),
        "findings": findings,
        "details": asdict(
            DataDetails(batch_size=batch_size, splits=[i.summary for i in inspections], overlap=overlaps)
        ),
    }
    if any(len(i.all_tensors) > LISTED_TENSORS for i in inspections):
        payload["full_report"] = {"splits": {i.split: [asdict(t) for t in i.all_tensors] for i in inspections}}
    return payload
