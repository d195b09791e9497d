"""start_training, worker side: one seed of a real training run, evaluated as it goes.

Data comes from the harness's optional `get_train_batch(batch_size, step[, model])` so that
each step sees new examples; without it every step reuses the fixed `get_batch` batch (an
overfit run, and the findings say so). Metrics come from the optional `evaluate(model)`,
called in eval mode at step 0 and every `eval_every` steps when asked, and at the end.

The worker streams what it sees to the server as progress `data` (see `Stream`): every
step's loss and named terms, the learning rate, each evaluation, and findings as soon as
they are known, so a running record, its curves and its TensorBoard events stay current.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from typing import Any

import torch

from ..wire.details import HistoryPoint
from ..wire.findings import ERROR, INFO, finding
from ..wire.messages import TrainRequest
from ..wire.run_caps import MAX_METRICS, MAX_TERMS, NameCap
from ..worker import loss_judges
from ..worker.job import JobContext
from ..worker.mode_checks import buffers_not_updated, mode_losses, statistics_buffers, train_eval_gap
from ..worker.run_judges import loss_trend, non_finite_metrics, objective_verdict
from ..worker.seed_streams import BatchDigest, evaluate_reseeded, restore_rng, rng_states
from ..worker.training import CHUNK, Trace, downsample, train
from .details import SeedDetails, SeedProgress, StreamedPoints

STREAM_INTERVAL_S = 0.5  # between data messages while training; evaluations are sent at once
GAP_MIN_STEPS = 50  # before this, running statistics still catch up with batch statistics


class Stream:
    """What the server has not been sent yet, flushed at most every STREAM_INTERVAL_S."""

    def __init__(self, ctx: JobContext, steps: int):
        self.ctx, self.steps = ctx, steps
        self.points = StreamedPoints()
        self.findings: list[dict[str, Any]] = []  # not sent yet
        self.all_findings: list[dict[str, Any]] = []
        self.keys: list[tuple[str, str | None]] = []  # (code, where) of all_findings, in order
        self.last = 0.0
        self.terms = NameCap("loss term", MAX_TERMS)

    def add(self, start: int, segment: Trace, lr: float) -> None:
        """Losses of steps start, start+1, ... (a step's loss is measured before its update)."""
        self.points.step.extend(range(start, start + len(segment)))
        self.points.loss.extend(segment.loss)
        for name, values in self.terms.apply(segment.terms).items():
            self.points.terms.setdefault(name, []).extend(values)
        self.points.lr.append([start + len(segment), lr])
        self.found([self.terms.finding(self.ctx.seed)])

    def found(self, items: list[dict[str, Any] | None]) -> None:
        """New findings are streamed once; a later verdict on the same code and place replaces the
        earlier one in the final answer (the buffers still frozen at the end, not after 50 steps)."""
        for item in items:
            if item is None:
                continue
            key = (item["code"], item["where"])
            if key in self.keys:
                self.all_findings[self.keys.index(key)] = item
                continue
            self.keys.append(key)
            self.findings.append(item)
            self.all_findings.append(item)

    def send(self, done: int, phase: str, *, force: bool = False, **extra: Any) -> None:
        if not force and time.monotonic() - self.last < STREAM_INTERVAL_S:
            return
        self.last = time.monotonic()
        data = asdict(SeedProgress(steps_done=done, phase=phase, points=self.points, findings=self.findings, **extra))
        self.ctx.progress(
            done, self.steps, f"seed {self.ctx.seed}: {phase}, step {done}/{self.steps}", data=data, force=True
        )
        self.points = StreamedPoints()
        self.findings = []


class SeedTrainer:
    """One seed's model, optimiser, loss trace and evaluation history."""

    def __init__(self, ctx: JobContext):
        self.ctx, self.harness = ctx, ctx.harness
        self.steps, self.batch_size = ctx.req.steps, ctx.req.batch_size
        self.eval_every = ctx.req.eval_every
        self.model = ctx.build_model()
        self.optimizer, self.scheduler = ctx.optimizer_for(self.model, ctx.req.lr, self.steps)
        self.buffers = statistics_buffers(self.model)
        self.trace = Trace()
        self.history: list[dict[str, Any]] = []
        self.stream = Stream(ctx, self.steps)
        self.metrics = NameCap("metric", MAX_METRICS, always=(self.harness.objective or {}).get("monitor"))
        self.gap_before = False  # whether the previous evaluation saw a train/eval gap
        # On-policy data depend on the model (different per seed by construction); a fixed batch is said apart.
        self.digest = (
            BatchDigest() if self.harness.get_train_batch_fn is not None and not self.harness.on_policy else None
        )

    @property
    def done(self) -> int:
        return len(self.trace)

    def next_stop(self) -> int:
        """Steps are run in chunks that end at each evaluation step."""
        stop = min(self.steps, self.done + CHUNK)
        if self.eval_every:
            stop = min(stop, (self.done // self.eval_every + 1) * self.eval_every)
        return stop

    def train_until(self, stop: int) -> bool:
        """Train up to step `stop`; False once the loss is NaN/Inf."""
        start = self.done
        segment = train(
            self.ctx,
            self.model,
            self.optimizer,
            lambda step: self.batch(start + step),
            stop - start,
            scheduler=self.scheduler,
        )
        self.trace.extend(segment)
        self.stream.add(start, segment, self.optimizer.param_groups[0]["lr"])
        return math.isfinite(segment.loss[-1])

    def batch(self, step: int) -> Any:
        batch = self.ctx.train_batch(self.batch_size, step, self.model)
        if self.digest is not None:
            self.digest.add(step, batch)
        return batch

    def evaluate(self) -> None:
        """evaluate(model) in eval mode, then the checks that need a trained model; all streamed at once."""
        self.stream.send(self.done, "evaluating", force=True)
        self.model.eval()
        seeded, states = torch.initial_seed(), rng_states()
        try:
            metrics = self.harness.evaluate(self.model)
        finally:
            self.model.train()
        if torch.initial_seed() != seeded:  # torch.manual_seed inside evaluate: keep this seed's own stream
            self.stream.found([evaluate_reseeded(seeded, torch.initial_seed(), self.ctx.seed)])
            restore_rng(states)
        point: dict[str, Any] = {"step": self.done, "metrics": self.metrics.apply(metrics)}
        self.history.append(point)
        seed = self.ctx.seed
        self.stream.found([self.metrics.finding(seed)])
        self.stream.found(non_finite_metrics(self.history, seed))
        self.stream.found([objective_verdict(self.history, self.harness.objective, seed, final=False)])
        if self.done:
            self.stream.found(self.mode_findings())
        self.stream.send(self.done, "training", force=True, history=[HistoryPoint(**point)])

    def mode_findings(self) -> list[dict[str, Any] | None]:
        """Frozen running statistics, and a train/eval gap seen at the end or at two evaluations in a row:
        early on, running statistics lag weights that move fast, and a clean BatchNorm shows a passing gap."""
        found = [buffers_not_updated(self.model, self.buffers, self.done, self.ctx.seed)]
        if not self.harness.on_policy:  # an on-policy loss is a surrogate on the model's own samples
            batch = self.ctx.train_batch(self.batch_size, self.done, self.model)
            gap = train_eval_gap(*mode_losses(self.harness, self.model, batch), self.done, self.ctx.seed)
            settled = self.done >= GAP_MIN_STEPS and (self.gap_before or self.done == self.steps)
            found.append(gap if settled else None)
            self.gap_before = gap is not None
        return found

    def run(self) -> None:
        has_evaluate = self.harness.evaluate_fn is not None
        self.stream.send(0, "training", force=True, objective=self.harness.objective)
        if has_evaluate and self.eval_every:
            self.evaluate()
        finite = True
        while finite and self.done < self.steps:
            finite = self.train_until(self.next_stop())
            if finite and has_evaluate and self.eval_every and self.done % self.eval_every == 0:
                self.evaluate()
            self.stream.send(self.done, "training")
        if finite and has_evaluate and (not self.history or self.history[-1]["step"] != self.done):
            self.evaluate()
        if finite and not has_evaluate:
            self.stream.found(self.mode_findings())


def _loss_findings(seed_run: SeedTrainer) -> list[dict[str, Any] | None]:
    """Verdicts on the whole loss trace; a surrogate loss (on-policy) is judged on the objective instead."""
    harness, trace, where = seed_run.harness, seed_run.trace, f"seed {seed_run.ctx.seed}"
    found: list[dict[str, Any] | None] = [*loss_judges.negative_kl(trace.terms, trace.loss, where)]
    if harness.defines["loss_floor"]:
        floor = harness.loss_floor(seed_run.ctx.batch(seed_run.batch_size))
        found.append(loss_judges.below_floor(trace.loss, floor, where))
    if not harness.on_policy:
        found += [loss_judges.unbounded(trace.loss, where), loss_trend(trace.loss, seed_run.ctx.seed)]
    found.append(objective_verdict(seed_run.history, harness.objective, seed_run.ctx.seed, final=True))
    return found


def _contract_notes(seed_run: SeedTrainer) -> list[dict[str, Any] | None]:
    losses, harness = seed_run.trace.loss, seed_run.harness
    notes: list[dict[str, Any] | None] = []
    if losses and not math.isfinite(losses[-1]):
        notes.append(
            finding(
                "non_finite_loss",
                ERROR,
                f"loss became NaN/Inf at step {len(losses) - 1} (seed {seed_run.ctx.seed})",
                evidence={"step": len(losses) - 1, "seed": seed_run.ctx.seed},
                suggestion="Lower lr (call lr_sweep), or call gradient_check to find the op.",
            )
        )
    if harness.evaluate_fn is None:
        notes.append(
            finding(
                "evaluate_missing",
                INFO,
                "the harness defines no evaluate(model) -> dict[str, float]: this run reports the loss only",
                suggestion="Add evaluate() computing the paper's metrics, so compare_metrics can take this run.",
            )
        )
    if harness.get_train_batch_fn is None:
        notes.append(
            finding(
                "train_batch_missing",
                INFO,
                "no get_train_batch(batch_size, step): every step trained on the same fixed get_batch batch",
            )
        )
    return notes


def run(ctx: JobContext[TrainRequest]) -> dict[str, Any]:
    seed_run = SeedTrainer(ctx)
    seed_run.stream.send(0, "starting", force=True)  # the server shows the seed (and its run) running, no longer queued
    seed_run.run()
    seed_run.stream.found(_contract_notes(seed_run) + _loss_findings(seed_run))
    seed_run.stream.send(seed_run.done, "finishing", force=True)  # the last steps reach the curves and events too
    losses, history = seed_run.trace.loss, seed_run.history
    metrics = history[-1]["metrics"] if history else {}
    finite = [v for v in losses if math.isfinite(v)]
    return {
        "summary": f"seed {ctx.seed}: {len(losses)} steps, final loss {losses[-1]:.4g}"
        + (", " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()) if metrics else ""),
        "findings": seed_run.stream.all_findings,
        "details": asdict(
            SeedDetails(
                seed=ctx.seed,
                steps_run=len(losses),
                final_loss=losses[-1] if losses else None,
                best_loss=min(finite) if finite else None,
                metrics=metrics,
                history=[HistoryPoint(**point) for point in history],
                curve=downsample(losses, terms=seed_run.stream.terms.apply(seed_run.trace.terms)),
                objective=ctx.harness.objective,
                data_digest=seed_run.digest.hexdigest() if seed_run.digest is not None else None,
            )
        ),
    }
