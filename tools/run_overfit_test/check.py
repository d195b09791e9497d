"""run_overfit_test, worker side: can the model memorise 1, 10, 100 fixed examples?

A correct model and training step drive the loss on a small fixed batch towards the lowest
loss a perfect model reaches: zero for a plain cross-entropy, the declared `loss_floor` for
label smoothing or a Bernoulli decoder on grey pixels. We judge on the loss, never accuracy:
a double softmax reaches 100 % accuracy on the batch while its cross-entropy stays stuck.

A loss that falls *past* what a perfect model reaches is no success: below the floor, without
limit, or through a negative KL term, it is a sign error, and that size is not memorised.
On-policy harnesses (RL) memorise a fixed batch of rollouts: their surrogate loss has no floor
and no scale, so only whether the parameters move, and the loss stays finite and falls, is judged.
A replay agent (DQN: get_train_batch acts with the model, get_batch holds transitions with a
next-state key) memorises get_batch's fixed transitions and is judged on its TD loss like any other.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import Any

import torch

from ..wire.findings import ERROR, INFO, RUN_FAILURES, WARNING, finding, sort_findings
from ..wire.messages import OverfitRequest
from ..worker import loss_judges, nonfinite, schedules
from ..worker.frozen_copies import find_copies
from ..worker.harness import inputs_of
from ..worker.job import JobContext
from ..worker.mode_checks import buffers_not_updated, mode_losses, statistics_buffers, train_eval_gap
from ..worker.training import Trace, downsample, train
from .copy_watch import CopyWatch, copy_findings
from .details import CopyTrace, ModeCheck, OverfitDetails, SizeResult, TermValues

DIVERGED_FACTOR = 10.0  # ended 10x as far above the floor (0 without one) as it began: the run blew up
NOT_DECREASING = 0.9  # best loss above this fraction of the way from the floor: it is not learning
# Memorised: the excess over the floor (0 without one) shrank 20x. With a floor this is
# floor + 5 % of (initial - floor): the same rule, measured from what a perfect model pays.
DEFAULT_TARGET_FRACTION = 0.05
# What one example with batch statistics or a normalised advantage makes fail, correct or not.
DEGENERATE_AT_ONE = {"params_not_updated", "overfit_failed", "loss_not_decreasing"}
# A surrogate that must at least fall on a fixed batch, and what its failure to fall means.
NEVER_FELL = {
    "rollouts": "the surrogate loss never fell on a fixed batch of rollouts",
    "likelihood": "the negative log-likelihood never fell on a fixed batch",
}
SKIPPED_MODE_CHECK = {"rollouts": "on-policy rollouts", "adversarial": "an adversarial game"}
# A result without problems on a harness whose loss has no target says what was judged instead.
SURROGATE_SUMMARY = {
    "rollouts": "The surrogate loss fell on fixed batches of rollouts and every parameter moved: the training "
    "step works. Judge the method on its objective with start_training (eval_every).",
    "likelihood": "The negative log-likelihood fell on every fixed batch and every parameter moved: the training "
    "step learns. A continuous density has no floor (loss_floor = -inf), so no size is judged memorised: check "
    "the log-determinant or the likelihood's terms by hand with check_known_values, and judge the test NLL with "
    "start_training.",
    "adversarial": "An adversarial game (adversarial = True): its summed loss has no floor and need not fall, so "
    "no size is judged memorised. The losses stayed finite and every parameter moved: each player's step runs. "
    "Judge the method on its objective with start_training (baseline and ceiling).",
}
SETTLE_PASSES = 100  # train-mode forwards before comparing modes: 0.9^100 = 3e-5 of BatchNorm's lag is left
END_STEPS = 5  # the run's end value is the median of its last steps: one noisy sample decides nothing


def _snapshot(model: torch.nn.Module, copies: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Trainable parameters, less the frozen copies': those change by their sync, judged by copy_watch."""
    return {
        name: p.detach().clone()
        for name, p in model.named_parameters()
        if p.requires_grad and not name.startswith(tuple(c + "." for c in copies))
    }


def _unchanged(model: torch.nn.Module, before: dict[str, torch.Tensor]) -> list[str]:
    params = dict(model.named_parameters())
    return [name for name, old in before.items() if torch.equal(params[name].detach(), old)]


def _end_value(losses: list[float]) -> float:
    """Where a run ended: the median of its last END_STEPS losses (a stochastic ELBO jitters)."""
    return statistics.median(losses[-END_STEPS:])


def _fixed_batch(ctx: JobContext, size: int, model: torch.nn.Module) -> Any:
    """The batch to memorise: get_batch(size), or for on-policy data one batch of rollouts of the fresh model."""
    if ctx.harness.rollouts:
        return ctx.train_batch(size, 0, model)
    return ctx.batch(size, "train")


def _target(ctx: JobContext, initial: float, floor: float | None, notes: list[dict], where: str) -> float:
    """The loss that counts as memorised: the user's target_loss, never below the floor."""
    base = floor if floor is not None else 0.0
    target = ctx.req.target_loss
    if target is None:
        return base + DEFAULT_TARGET_FRACTION * (initial - base) if math.isfinite(initial) else base
    raised = floor + loss_judges.FLOOR_MARGIN * max(1.0, abs(floor)) if floor is not None else None
    if raised is not None and target < raised:
        notes.append(
            finding(
                "target_below_floor",
                INFO,
                f"target_loss {target:.4g} is at or below the declared loss_floor {floor:.4g} on this batch, which a "
                f"model only approaches: the target was raised to {raised:.4g}, the floor plus 1 % ({where})",
                where=where,
                evidence={"target_loss": target, "floor": floor, "raised_to": raised},
                suggestion="Leave target_loss out: the default target is floor + 5 % of (initial - floor).",
            )
        )
        return raised
    return target


def _lowest_plausible(floor: float | None, initial: float) -> float:
    """The lowest loss a correct run can end at: the floor (less the judges' margin), and never below
    zero from a positive start (cross-entropy, MSE and discrete NLLs cannot be negative)."""
    lowest = floor - loss_judges.FLOOR_MARGIN * max(1.0, abs(floor)) if floor is not None else -math.inf
    return max(lowest, 0.0) if initial >= 0 else lowest


def _stopper(target: float, lowest: float, initial: float, base: float):
    """When a run may stop early: at the target, but never below the lowest plausible loss: a sign-flipped
    loss crosses the target on its way down, so let it show where it goes."""

    def reached(losses: list[float]) -> bool:
        return lowest <= _end_value(losses) <= target or _diverged_at(losses[-1], initial, base)

    return reached


@dataclass
class SizeRun:
    """One size's training run: what the verdicts need."""

    model: torch.nn.Module
    batch: Any
    trace: Trace
    initial: float  # loss at init, in train mode
    initial_terms: dict[str, float]  # the other terms of a loss dict at init
    floor: float | None  # the harness's loss_floor on this batch (None on-policy)
    target: float | None  # None on-policy: a surrogate has no target
    lowest: float  # the lowest loss a correct run can end at
    notes: list[dict]  # info findings from setting the target
    params_before: dict[str, torch.Tensor]
    buffers_before: dict[str, torch.Tensor]  # running statistics, after our own forward at init
    watch: CopyWatch  # what train_step does to the model's frozen copies
    redrawn: tuple[float, float] | None  # two eval-mode losses on the batch that differ: loss_fn draws randomness


def _redrawn(ctx: JobContext, model: torch.nn.Module, batch: Any) -> tuple[float, float] | None:
    """The loss twice in eval mode (no dropout) with the same weights: two values that differ mean loss_fn draws
    fresh randomness on every call (augmentations, noise, a timestep), so its floor is above zero. The draws
    come from a forked generator, so the run that follows sees the stream it would have seen."""
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        model.eval()
        try:
            first, second = (float(ctx.harness.loss_terms(model, batch)[0]) for _ in range(2))
        finally:
            model.train()
    same = not (math.isfinite(first) and math.isfinite(second)) or abs(first - second) <= 1e-4 * max(1.0, abs(first))
    return None if same else (first, second)


def _train_size(ctx: JobContext, size: int, progress: tuple[int, int]) -> SizeRun:
    """Train a fresh model on one fixed batch; everything the verdicts need."""
    model = ctx.build_model()
    batch = _fixed_batch(ctx, size, model)
    optimizer, scheduler = ctx.optimizer_for(model, ctx.req.lr, ctx.req.steps)
    copies = find_copies(model, ctx.harness.frozen_copies)
    params_before = _snapshot(model, tuple(c.copy for c in copies))
    with torch.no_grad():
        model.train()
        loss, terms = ctx.harness.loss_terms(model, batch)
    initial, initial_terms = float(loss), {name: float(value) for name, value in terms.items()}
    floor = None if ctx.harness.surrogate else ctx.harness.loss_floor(batch)
    notes: list[dict] = []
    target = None if ctx.harness.surrogate else _target(ctx, initial, floor, notes, f"size {size}")
    lowest = _lowest_plausible(floor, initial)
    stop = _stopper(target, lowest, initial, floor or 0.0) if target is not None and math.isfinite(initial) else None
    redrawn = None if ctx.harness.surrogate else _redrawn(ctx, model, batch)
    buffers_before = statistics_buffers(model)  # after our own forward: training must move them further
    watch = CopyWatch(model, optimizer, copies)
    trace = train(
        ctx,
        model,
        optimizer,
        lambda step: batch,
        ctx.req.steps,
        scheduler=scheduler,
        stop=stop,
        after_step=watch.after_step,
        progress=(progress[0], progress[1], f"size {size}"),
    )
    return SizeRun(
        model,
        batch,
        trace,
        initial,
        initial_terms,
        floor,
        target,
        lowest,
        notes,
        params_before,
        buffers_before,
        watch,
        redrawn,
    )


def _size_result(size: int, run: SizeRun, unchanged: list[str]) -> SizeResult:
    trace = run.trace
    losses = trace.loss
    finite = [v for v in losses if math.isfinite(v)]
    terms = {
        name: TermValues(
            initial=run.initial_terms.get(name), final=next((v for v in reversed(values) if math.isfinite(v)), None)
        )
        for name, values in trace.terms.items()
    }
    return SizeResult(
        size=size,
        initial_loss=run.initial,
        final_loss=losses[-1] if losses else None,
        end_loss=_end_value(finite) if finite else None,
        best_loss=min(finite) if finite else None,
        loss_floor=run.floor,
        target_loss=run.target,
        steps_run=len(losses),
        steps_to_target=next((i + 1 for i, v in enumerate(losses) if run.target is not None and v <= run.target), None),
        params_changed=len(unchanged) < len(run.params_before),
        batch_statistics=bool(run.buffers_before),
        unchanged_params=unchanged[:10],
        terms=terms,
        curve=downsample(losses),
    )


def _diverged_at(value: float, initial: float, base: float) -> bool:
    """Far above where it began: 10x the initial excess over the base (the floor, else 0)."""
    return value > initial + (DIVERGED_FACTOR - 1) * max(abs(initial - base), 1e-8)


def _non_finite(ctx: JobContext, size: int, run: SizeRun, result: SizeResult) -> list[dict]:
    losses, initial = run.trace.loss, run.initial
    finite = [v for v in losses if math.isfinite(v)]
    step = len(losses) if math.isfinite(initial) else 0
    culprit = _locate_non_finite(ctx, size, step)
    result.non_finite_at_step = step
    findings = []
    if finite and _diverged_at(max(finite), initial, run.floor or 0.0):
        # The loss climbed before it overflowed: the cause is the step size, not one op.
        findings.append(_diverged(size, initial, max(finite), ctx.req.lr, f"then NaN/Inf at step {step}"))
    findings.append(
        finding(
            "non_finite_loss",
            ERROR,
            f"loss became NaN/Inf at step {step} on {size} example(s)"
            + (f", first in {culprit['where']} ({culprit['stage']})" if culprit["where"] else ""),
            where=culprit["where"],
            evidence={"size": size, "step": step, **culprit},
            suggestion="Look for log(0), division by zero, exp overflow or a too-high lr at the named place.",
        )
    )
    return findings


def _impossible(ctx: JobContext, run: SizeRun, where: str) -> list[dict]:
    """Losses no correct implementation reaches: below the floor, without limit, a negative KL."""
    trace = run.trace
    losses = [run.initial, *trace.loss]
    terms = {name: [run.initial_terms.get(name, math.nan), *values] for name, values in trace.terms.items()}
    found = [loss_judges.below_floor(losses, run.floor, where)]
    if not ctx.harness.surrogate:  # a surrogate (rollouts, a game) has no lower limit by design
        found.append(loss_judges.unbounded(losses, where))
    found = [f for f in found if f is not None] + loss_judges.negative_kl(terms, losses, where)
    if not found and run.floor is None and not ctx.harness.surrogate and min(losses) < run.lowest:
        found.append(_below_zero(run.initial, min(losses), where))
    return found


def _below_zero(initial: float, lowest: float, where: str) -> dict[str, Any]:
    """Info, not error: without a declared floor we cannot tell a flipped sign from a continuous likelihood."""
    return finding(
        "loss_below_floor",
        INFO,
        f"the loss fell from {initial:.4g} to {lowest:.4g}, below zero, and no loss_floor is declared: not counted "
        f"as memorised ({where})",
        where=where,
        evidence={"initial": initial, "lowest": lowest, "floor": None},
        suggestion="A cross-entropy, MSE or discrete NLL is never negative: look for a flipped sign. A likelihood of "
        "continuous data can be: declare loss_floor = float('-inf') for a density with no lower limit (a flow), so "
        "the overfit test judges it on falling; or the floor it has, so every tool checks against it.",
    )


def _params_finding(size: int, steps: int, before: dict, unchanged: list[str]) -> dict[str, Any] | None:
    where = f"size {size}"
    if not before:
        return finding("params_not_updated", ERROR, "the model has no trainable parameters", where=where)
    if unchanged and len(unchanged) == len(before):
        return finding(
            "params_not_updated",
            ERROR,
            f"no parameter changed in {steps} training steps on {size} example(s)",
            where=where,
            evidence={"size": size, "steps": steps},
            suggestion="Check that optimizer.step() is called, that the optimizer got model.parameters(), "
            "that lr > 0 and that the loss is not computed under torch.no_grad() or on detached tensors.",
        )
    if unchanged:
        return finding(
            "params_not_updated",
            WARNING,
            f"{len(unchanged)} of {len(before)} parameter tensors never changed: {', '.join(unchanged[:5])}",
            where=unchanged[0],
            evidence={"size": size, "unchanged": unchanged[:20]},
            suggestion="Call gradient_check: these parameters probably get no gradient (unused or detached).",
        )
    return None


def _progress_findings(ctx: JobContext, size: int, run: SizeRun, result: SizeResult) -> list[dict]:
    """diverged, loss_not_decreasing, overfit_failed: how far the loss got towards the target."""
    initial, floor, target = run.initial, run.floor, run.target
    end, best, steps = result.end_loss, result.best_loss, result.steps_run
    base = floor if floor is not None else 0.0
    if _diverged_at(result.final_loss, initial, base):
        return [_diverged(size, initial, result.final_loss, ctx.req.lr)]
    if ctx.harness.surrogate == "adversarial":  # a game's summed loss need not fall: its objective judges it
        return []
    if ctx.harness.surrogate in NEVER_FELL:
        if best < initial - 1e-6 * max(1.0, abs(initial)):
            return []
        return [_not_decreasing(size, initial, best, steps, NEVER_FELL[ctx.harness.surrogate])]
    if best > base + NOT_DECREASING * (initial - base):
        return [_not_decreasing(size, initial, best, steps, None)]
    if end <= target:
        return []
    evidence = {
        "size": size,
        "initial": initial,
        "end": end,
        "best": best,
        "target": target,
        "floor": floor,
        "closed": (initial - end) / (initial - base) if initial != base else None,
    }
    variational = any(name.lower().startswith("kl") for name in run.initial_terms)
    if run.redrawn is not None and not variational:  # a bound's sampling is its own mechanism: judged below
        return [_stochastic_loss(size, end, target, run.redrawn, evidence)]
    if size > 1 and variational:
        return [_bound_not_memorised(size, run, result, evidence)]
    return [_overfit_failed(ctx, size, run, result, evidence)]


def _bound_not_memorised(size: int, run: SizeRun, result: SizeResult, evidence: dict) -> dict:
    """overfit_failed as INFO: a variational bound on N > 1 examples keeps ~ln N nats of KL above the floor."""
    initial, floor, target, end = run.initial, run.floor, run.target, result.end_loss
    base = floor if floor is not None else 0.0
    return finding(
        "overfit_failed",
        INFO,
        f"the bound ended at {end:.4g} on {size} examples, {evidence['closed'] or 0:.0%} of the way from "
        f"{initial:.4g} to the floor {base:.4g} (target {target:.4g}): a variational bound cannot memorise "
        "N > 1 examples to the floor, so only size 1 is held to it",
        where=f"size {size}",
        evidence=evidence,
        suggestion="Its KL term must carry the ~ln N nats that tell the examples apart and the decoder blurs "
        "over the posterior's noise; size 1 (KL -> 0, the decoder outputs the example) must reach the target.",
    )


def _overfit_failed(ctx: JobContext, size: int, run: SizeRun, result: SizeResult, evidence: dict) -> dict:
    """overfit_failed as ERROR: the loss fell but stopped above the target."""
    initial, floor, target = run.initial, run.floor, run.target
    end, best, steps = result.end_loss, result.best_loss, result.steps_run
    return finding(
        "overfit_failed",
        ERROR,
        f"loss ended at {end:.4g} (best {best:.4g}) on {size} example(s) in {steps} steps, target {target:.4g}"
        # a target the user gave is shown as is; the default one is explained from the floor
        + (
            f" (floor {floor:.4g} + 5 % of the way from {initial:.4g})"
            if floor is not None and ctx.req.target_loss is None
            else ""
        ),
        where=f"size {size}",
        evidence=evidence,
        suggestion="If the loss is still falling, give more steps or a higher lr; if it plateaus, suspect the "
        "architecture (a bottleneck, a double softmax, wrong target format) or a loss_floor set too low.",
    )


def _stochastic_loss(size: int, end: float, target: float, redrawn: tuple[float, float], evidence: dict) -> dict:
    first, second = redrawn
    return finding(
        "overfit_failed",
        INFO,
        f"the loss ended at {end:.4g} on {size} example(s), above the target {target:.4g}, but it is not a fixed "
        f"function of the batch: two calls with the same weights gave {first:.4g} and {second:.4g}. loss_fn draws "
        "fresh randomness on every call (augmentations, noise, a timestep), so no run can memorise it to the target",
        where=f"size {size}",
        evidence={**evidence, "redrawn": [first, second]},
        suggestion="To hold it to the target, draw the randomness in get_batch / get_train_batch from a generator "
        "seeded by the step (it is then part of the fixed batch), or declare loss_floor; a falling loss is the "
        "signal here.",
    )


def _not_decreasing(size: int, initial: float, best: float, steps: int, why: str | None) -> dict[str, Any]:
    return finding(
        "loss_not_decreasing",
        ERROR,
        f"loss stayed at {best:.4g} (from {initial:.4g}) over {steps} steps on {size} example(s)"
        + (f": {why}" if why else ""),
        where=f"size {size}",
        evidence={"size": size, "initial": initial, "best": best},
        suggestion="Look for a detached graph, a double softmax, targets that do not match the output, "
        "or an lr far too small; call gradient_check. A minimax game (a GAN's generator against its discriminator) "
        "never memorises: declare adversarial = True in the harness.",
    )


def _diverged(size: int, initial: float, peak: float, lr: float, then: str = "") -> dict[str, Any]:
    return finding(
        "diverged",
        ERROR,
        f"loss rose from {initial:.4g} to {peak:.4g} on {size} example(s)" + (f", {then}" if then else ""),
        where=f"size {size}",
        evidence={"size": size, "initial": initial, "peak": peak},
        suggestion=f"Lower lr (now {lr:g}) and call lr_sweep to find a stable one; if it diverges at every lr, "
        "check that train_step calls optimizer.zero_grad() each step (accumulated gradients overshoot).",
    )


@torch.no_grad()
def _settle_running_statistics(ctx: JobContext, model: torch.nn.Module, batch: Any) -> None:
    """Train-mode forwards without a step, so that running statistics catch up with the trained model.
    A run stopped at its target after 25 steps leaves BatchNorm's momentum-0.1 averages 0.9^25 = 7 % on
    their initial 0/1 (measured: eval loss 17x the train loss on a correct model); after SETTLE_PASSES
    more they sit on the batch's statistics, and only statistics that are never written still differ."""
    model.train()
    for _ in range(SETTLE_PASSES):
        ctx.harness.loss(model, batch)


def _mode_findings(ctx: JobContext, size: int, run: SizeRun, result: SizeResult) -> list[dict]:
    """train_eval_gap and buffers_not_updated once the batch is memorised. Skipped for rollouts (no fixed
    target to compare) and for one example with running statistics (its batch statistics are degenerate)."""
    if ctx.harness.surrogate in SKIPPED_MODE_CHECK or (size == 1 and run.buffers_before):
        result.mode = ModeCheck(skipped=SKIPPED_MODE_CHECK.get(ctx.harness.surrogate, "BatchNorm on one example"))
        return []
    frozen = buffers_not_updated(run.model, run.buffers_before, result.steps_run, ctx.seed)
    if run.buffers_before:
        _settle_running_statistics(ctx, run.model, run.batch)
    train_loss, eval_loss = mode_losses(ctx.harness, run.model, run.batch)
    result.mode = ModeCheck(
        train_mode_loss=train_loss, eval_mode_loss=eval_loss, buffers_tracked=len(run.buffers_before)
    )
    found = [train_eval_gap(train_loss, eval_loss, result.steps_run, ctx.seed), frozen]
    for item in filter(None, found):  # the shared judges name a training run's seed; here the run is a size
        item["where"] = f"size {size}" if item["code"] == "train_eval_gap" else item["where"]
        item["message"] = item["message"].replace(f"(seed {ctx.seed})", f"(size {size})")
        item["evidence"]["size"] = size
    return [item for item in found if item is not None]


def _one_size(
    ctx: JobContext, size: int, progress: tuple[int, int]
) -> tuple[SizeResult, list[dict], list[CopyTrace], Trace]:
    run = _train_size(ctx, size, progress)
    result, findings = _judge_size(ctx, size, run)
    if size == min(ctx.req.sizes) and run.watch.waiting_for_sync():
        # A hard sync every K steps shows only after K steps, and a run stops at its target: the smallest
        # batch (the cheapest steps) goes on to `steps` in all, for the copies' sake only.
        train(
            ctx,
            run.model,
            run.watch.optimizer,
            lambda step: run.batch,
            ctx.req.steps - run.watch.steps,
            after_step=run.watch.after_step,
        )
    return result, findings, run.watch.close(size), run.trace


def _judge_size(ctx: JobContext, size: int, run: SizeRun) -> tuple[SizeResult, list[dict]]:
    unchanged = _unchanged(run.model, run.params_before)
    result = _size_result(size, run, unchanged)
    findings = list(run.notes)
    losses = run.trace.loss
    if not math.isfinite(run.initial) or (losses and not math.isfinite(losses[-1])):
        return result, findings + _non_finite(ctx, size, run, result)
    impossible = _impossible(ctx, run, f"size {size}")
    params = _params_finding(size, len(losses), run.params_before, unchanged)
    findings += impossible + ([params] if params else [])
    if params is not None and params["severity"] == ERROR:
        return result, findings
    progress_findings = _progress_findings(ctx, size, run, result)
    findings += progress_findings + _mode_findings(ctx, size, run, result)
    # Memorised means it ends at the target, by a loss a correct model can have: touching the target and
    # bouncing back up (no zero_grad) is not enough, nor is falling through it (a flipped sign).
    result.reached_target = bool(
        not impossible
        and not ctx.harness.surrogate
        and not any(f["severity"] == ERROR for f in progress_findings)
        and result.end_loss <= run.target
    )
    return result, findings


def _locate_non_finite(ctx: JobContext, size: int, step: int) -> dict[str, Any]:
    """Replay the run up to the step before the NaN (runs are seeded), then find the op."""
    model = ctx.build_model()
    batch = _fixed_batch(ctx, size, model)
    optimizer, scheduler = ctx.optimizer_for(model, ctx.req.lr, ctx.req.steps)
    if step > 1:
        train(ctx, model, optimizer, lambda _: batch, step - 1, scheduler=scheduler)
    return nonfinite.locate(model, lambda: ctx.harness.loss(model, batch))


def _degenerate_single_example(per_size: list[SizeResult], findings: list[dict]) -> None:
    """One example can give a zero gradient by construction: a normalised advantage of one sample is 0,
    BatchNorm of one example outputs its bias whatever the input. When a larger size trains, the failures
    at size 1 are that, not a bug: they become info and the larger sizes are judged."""
    single = next((r for r in per_size if r.size == 1 and r.error is None), None)
    if single is None or not any(r.size > 1 and r.params_changed for r in per_size):
        return
    why = None
    if single.batch_statistics:
        why = "BatchNorm of one example normalises every feature to its bias, so the input cannot reach the output"
    elif not single.params_changed:
        why = "one example gives a zero gradient by construction (e.g. a normalised advantage of one sample is 0)"
    for item in findings:
        if why and item["evidence"].get("size") == 1 and item["code"] in DEGENERATE_AT_ONE:
            item["severity"] = INFO
            item["message"] += f"; the larger sizes did train: {why}. Judged on those"


def _summary(per_size: list[SizeResult], findings: list[dict], surrogate: str | None) -> str:
    memorised = [r.size for r in per_size if r.reached_target]
    problems = [f for f in findings if f["severity"] != INFO]
    if not problems:
        if surrogate:
            return SURROGATE_SUMMARY[surrogate]
        short = [r.size for r in per_size if not r.reached_target and r.error is None]
        learned = (
            f"Memorised {', '.join(map(str, memorised))} example(s)" if memorised else "No size reached its target"
        )
        if not short:
            return learned + ": the model and training step can learn."
        return (
            f"{learned}; size(s) {', '.join(map(str, short))} fell short for a reason that is no bug (the info "
            "findings say which), and the loss fell: the training step learns."
        )
    summary = f"{len(problems)} problem(s); first: {problems[0]['message']}."
    return summary + (f" Memorised sizes: {memorised}." if memorised else "")


def _batchnorm_single(exc: BaseException, size: int) -> dict[str, Any] | None:
    """BatchNorm refuses one example per channel in train mode: a size it cannot run, not a bug."""
    if size != 1 or "more than 1 value per channel" not in str(exc):
        return None
    return finding(
        "size_skipped",
        INFO,
        "size 1 skipped: BatchNorm needs more than one example per channel in train mode",
        where="size 1",
        evidence={"size": 1, "error": str(exc)[:300]},
        suggestion="Judged on the larger sizes; pass sizes without 1 to leave it out.",
    )


def _nothing_trained(per_size: list[SizeResult], findings: list[dict]) -> list[dict]:
    """Every size skipped: nothing was measured, so the verdict is inconclusive, never a pass."""
    if any(r.error is None for r in per_size) or any(f["code"] in RUN_FAILURES for f in findings):
        return []
    skipped = [r.size for r in per_size]
    return [
        finding(
            "nothing_measured",
            WARNING,
            f"no size was trained: {', '.join(map(str, skipped))} example(s) all skipped, so nothing says whether the "
            "model can learn",
            where="sizes",
            evidence={"skipped": skipped},
            suggestion="Call run_overfit_test again with sizes it can run (BatchNorm needs at least 2 examples: "
            "sizes=[2, 10, 100]).",
        )
    ]


def _merge_repeats(findings: list[dict]) -> list[dict]:
    """One finding for the same words at several sizes (the same parameters never changed at 1, 10 and 100):
    the agent reads it once, with the sizes in its evidence."""
    merged: dict[tuple, dict] = {}
    for found in findings:
        key = (found["code"], found["severity"], found["message"], found["where"])
        size = found["evidence"].get("size")
        if key not in merged:
            merged[key] = found
        elif size is not None:
            first = merged[key]["evidence"]
            first["sizes"] = [*first.get("sizes", [first.get("size")]), size]
    return list(merged.values())


def _rows(batch: Any) -> int | None:
    inputs = inputs_of(batch)
    return inputs.shape[0] if isinstance(inputs, torch.Tensor) and inputs.dim() > 0 else None


def _sizes_to_run(ctx: JobContext) -> tuple[list[int], list[dict]]:
    """The sizes worth a run. A get_batch that ignores batch_size (one graph, a whole small dataset) gives every
    size the same rows: one run stands for all, and an info says so instead of three runs mislabelled."""
    sizes = list(ctx.req.sizes)
    if len(sizes) < 2 or ctx.harness.rollouts:
        return sizes, []
    try:  # one peek settles the usual case: the batch has the rows asked for
        first = _rows(ctx.harness.peek_batch(sizes[0]))
        if first in (None, sizes[0]):
            return sizes, []
        rows = {size: _rows(ctx.harness.peek_batch(size)) for size in sizes[1:]}
    except Exception:  # get_batch's own errors surface in the runs, with their traceback
        return sizes, []
    if set(rows.values()) != {first}:
        return sizes, []
    note = finding(
        "size_skipped",
        INFO,
        f"get_batch ignores batch_size: it returned the same {first} rows for sizes "
        f"{', '.join(map(str, sizes))}, so one run on them stands for every size",
        where="get_batch",
        evidence={"sizes": sizes, "rows": first},
        suggestion="Nothing to fix for one graph or a whole small dataset; otherwise make get_batch return "
        "batch_size examples.",
    )
    return sizes[:1], [note]


def run(ctx: JobContext[OverfitRequest]) -> dict[str, Any]:
    sizes, notes = _sizes_to_run(ctx)
    total = len(sizes) * ctx.req.steps
    per_size, findings = [], notes
    copies: list[CopyTrace] = []  # the longest run's: the most steps to see a sync in
    longest = Trace()  # the most steps to see a schedule move in
    errors: dict[tuple[str, str], tuple[BaseException, list[int]]] = {}  # one finding per distinct exception
    for index, size in enumerate(sizes):
        try:
            result, size_findings, traces, trace = _one_size(ctx, size, (index * ctx.req.steps, total))
        except Exception as exc:  # one size failing (BatchNorm on 1 example) must not hide the others
            per_size.append(SizeResult(size=size, error=str(exc)[:300]))
            if skipped := _batchnorm_single(exc, size):
                findings.append(skipped)
                continue
            errors.setdefault((type(exc).__name__, str(exc)), (exc, []))[1].append(size)
            continue
        per_size.append(result)
        findings.extend(size_findings)
        if traces and (not copies or traces[0].steps > copies[0].steps):
            copies = traces
        longest = max(longest, trace, key=len)
    for error, failed_sizes in errors.values():
        found = ctx.error_finding(error, during=f"training on {', '.join(map(str, failed_sizes))} example(s)")
        found["where"] = found["where"] or f"size {failed_sizes[0]}"  # raised inside torch: name the run
        found["evidence"]["sizes"] = failed_sizes
        findings.append(found)
    _degenerate_single_example(per_size, findings)
    findings = _merge_repeats(findings)
    scheduled = ctx.harness.make_scheduler_fn is not None
    findings = sort_findings(
        findings
        + _nothing_trained(per_size, findings)
        + copy_findings(copies)
        + schedules.metric_findings(longest.terms, scheduled)
    )
    return {
        "summary": _summary(per_size, findings, ctx.harness.surrogate),
        "findings": findings,
        "details": asdict(OverfitDetails(sizes=per_size, copies=copies, on_policy=ctx.harness.rollouts)),
    }
