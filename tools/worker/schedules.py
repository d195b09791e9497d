"""Schedules that never move: an exploration ε, a KL weight, a learning rate returned by train_step
and flat over a whole run, or a diffusion schedule array (betas) registered with one value in every slot.

A schedule is recognised by its name (metric_names.words): a constant learning rate or a fixed β of a
β-VAE is often what the paper prescribes, so a flat value is only a warning where it cannot be what
was meant (ε pinned at 1: the behaviour policy stays uniformly random; a KL weight pinned at 0: the
KL term is off; an lr flat while make_scheduler is defined), and a note otherwise.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..wire.findings import INFO, WARNING, finding
from ..wire.metric_names import words

MIN_STEPS = 20  # a metric flat over fewer steps says nothing about a schedule
MIN_SLOTS = (
    10  # a schedule array has one slot per diffusion step; a per-feature vector (LayerNorm beta) is named singular
)
EXPLORATION = frozenset({"epsilon", "eps", "exploration"})
WEIGHTS = frozenset({"beta", "anneal", "annealing", "warmup"})
RATES = frozenset({"lr"})
OTHERS = frozenset({"temperature", "temp", "tau", "schedule"})
ARRAY_WORDS = frozenset({"betas", "alphas", "sigmas", "cumprod", "abar", "schedule"})


def _kind(name: str) -> str | None:
    """Which schedule a metric name names: exploration, weight, rate, other; None for other metrics."""
    found = set(words(name))
    if found & EXPLORATION:
        return "exploration"
    if found & WEIGHTS or ("kl" in found and found & {"weight", "coef", "coeff", "scale"}):
        return "weight"
    if found & RATES or {"learning", "rate"} <= found:
        return "rate"
    return "other" if found & OTHERS else None


def _why_wrong(kind: str, value: float, scheduled: bool) -> str | None:
    """Why a flat value of this kind cannot be what the paper meant; None when it may be."""
    if kind == "exploration" and math.isclose(value, 1.0, abs_tol=1e-6):
        return "the behaviour policy acts uniformly at random for the whole run (ε never decays from 1)"
    if kind == "weight" and value == 0.0:
        return "the weighted term is switched off for the whole run (the annealing never starts)"
    if kind == "rate" and (value == 0.0 or scheduled):
        return (
            "the harness defines make_scheduler, yet the learning rate it reports never changes"
            if value
            else "a learning rate of 0 trains nothing"
        )
    return None


def metric_findings(terms: dict[str, list[float]], scheduled: bool) -> list[dict[str, Any]]:
    """schedule_constant for each schedule-named train_step metric with one value over the whole run."""
    findings = []
    for name, values in terms.items():
        kind = _kind(name)
        seen = [v for v in values if math.isfinite(v)]
        if kind is None or len(seen) < MIN_STEPS or max(seen) != min(seen):
            continue
        why = _why_wrong(kind, seen[0], scheduled)
        message = f"train_step's {name!r} stays {seen[0]:.6g} over all {len(seen)} training steps"
        findings.append(
            finding(
                "schedule_constant",
                WARNING if why else INFO,
                message + (f": {why}" if why else ": if the paper anneals it, the schedule does not move"),
                where=f"train_step {name!r}",
                evidence={"metric": name, "value": seen[0], "steps": len(seen)},
                suggestion="Check the schedule's formula at a few steps with check_known_values (integer division, "
                "a step counter never incremented, start and end swapped); a value meant to be fixed needs no change.",
            )
        )
    return findings


def _flat_arrays(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Registered 1-D float buffers named like a schedule array with one value in all of their >= 10 slots."""
    found = {}
    for path, buffer in model.named_buffers():
        if not set(words(path.rsplit(".", 1)[-1])) & ARRAY_WORDS or not buffer.is_floating_point():
            continue
        if buffer.dim() == 1 and len(buffer) >= MIN_SLOTS and bool((buffer == buffer[0]).all()):
            found[path] = buffer
    return found


def buffer_finding(model: torch.nn.Module) -> dict[str, Any] | None:
    """schedule_constant for schedule arrays (betas, alphas_cumprod, sigmas) whose every slot is equal."""
    flat = _flat_arrays(model)
    if not flat:
        return None
    first, values = next(iter(flat.items()))
    return finding(
        "schedule_constant",
        WARNING,
        f"the model's schedule buffer {first} holds {float(values[0]):.6g} in all {len(values)} slots"
        + (f" (and {len(flat) - 1} more: {', '.join(list(flat)[1:4])})" if len(flat) > 1 else "")
        + ": a schedule that never moves across steps (e.g. linspace(start, start) for linspace(start, end))",
        where=first,
        evidence={"buffers": list(flat)[:8], "value": float(values[0]), "slots": len(values)},
        suggestion="Build the schedule from its start and end values (DDPM: betas linear from 1e-4 to 0.02 over T) "
        "and check its first and last entries with check_known_values.",
    )
