"""Finding codes and the plain-dict form a check returns them in.

The codes are public (docs/results.md, "Finding codes"): extend, never rename. The server
validates every finding against `implement_paper.tools.runtime.envelope.Finding`.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


class _HasSeverity(Protocol):
    @property
    def severity(self) -> str: ...


F = TypeVar("F", bound="dict[str, Any] | _HasSeverity")

# What a code means, in one line. The tool docs come from here; docs/results.md's table repeats it (a test
# keeps the two equal).
CODES: dict[str, str] = {
    "overfit_failed": "loss did not reach the target on N examples",
    "loss_not_decreasing": "parameters move but the loss does not improve",
    "params_not_updated": "a training step left every (or some named) parameter unchanged",
    "diverged": "loss grew far above its initial value",
    "non_finite_loss": "loss became NaN/Inf",
    "params_without_grad": "trainable parameters whose .grad is None after backward",
    "zero_grad": "gradients that are exactly zero",
    "non_finite_grad": "NaN/Inf gradients",
    "exploding_grad": "gradient norms far above the healthy range",
    "vanishing_grad": "gradient norms far below the healthy range",
    "gradcheck_failed": "analytic and finite-difference gradients disagree",
    "no_stable_lr": "no learning rate in the range trains stably",
    "lr_at_range_edge": "the best learning rate sits on the edge of the swept range",
    "lr_range_inconclusive": (
        "the range test saw too little learning to judge (or cannot judge an on-policy harness): use mode auto or grid"
    ),
    "init_loss_mismatch": "loss at init far from the expected value",
    "init_loss_unchecked": (
        "no expected loss at init is known (regression, a custom loss that is not a cross-entropy alone): "
        "pass expected_init_loss"
    ),
    "dead_activations": "ReLU-like units never active",
    "saturated_activations": "tanh/sigmoid-like units pinned at their limits",
    "exploding_activations": "activation scale grows layer over layer",
    "oversized_weights": "a layer's weights start far above every usual init scale",
    "vanishing_activations": "activation scale shrinks layer over layer",
    "param_count_mismatch": "total parameters differ from the paper's count",
    "unregistered_modules": "modules kept in plain lists/dicts, invisible to .parameters()",
    "batch_dependence": "output of one example depends on another example's input",
    "future_leakage": "output at position t depends on inputs after t",
    "variant_beats_baseline": "an ablation variant does better than the baseline beyond seed noise (info)",
    "metric_mismatch": "a measured metric outside tolerance of the paper's",
    "metric_missing": "a reported metric was not measured",
    "metric_exceeds_reported": "a measured metric beats the paper's beyond tolerance (info)",
    "metric_not_reported": "measured metrics the paper does not report, left uncompared (info)",
    "below_baseline": (
        "a metric worse than its baseline, or no better (a trivial method's level: random policy, Gaussian fit)"
    ),
    "beyond_ceiling": "a metric better than its ceiling, the best achievable value: a leak or a wrong metric",
    "far_from_ceiling": "a metric that improved on its baseline but covers less than half the way to its ceiling",
    "non_finite_inputs": "NaN/Inf in inputs or targets",
    "label_out_of_range": "integer targets outside [0, num_classes)",
    "split_overlap": "identical examples appear in two splits",
    "nondeterministic_batch": "two calls of get_batch(n, split) return different examples",
    "unnormalized_inputs": "float inputs far from zero mean / unit scale",
    "noise_shared_across_batch": (
        "a random float tensor of the batch is one draw repeated in every example "
        "(a different draw in another split): noise broadcast instead of drawn per example"
    ),
    "input_carries_target": (
        "integer inputs equal their targets at (almost) every supervised position: "
        "the input shows what it is asked to predict (a masked-LM input never masked)"
    ),
    "split_unsupported": "get_batch does not support a requested split",
    "num_classes_inferred": "the harness defines no num_classes; the label range implies one",
    "inputs_not_found": "no input tensor in the batch (batch[0], or an inputs/x key); checks on it were skipped",
    "evaluate_missing": "the harness defines no evaluate(model), so a run reports no metrics",
    "train_batch_missing": "no get_train_batch(batch_size, step): training reused the fixed get_batch batch",
    "seeds_share_data": "different seeds of a run trained on identical batches: their spread is not seed variance",
    "evaluate_reseeds": "evaluate() calls torch.manual_seed: every seed would restart from one random state after it",
    "known_value_mismatch": "a harness function's output differs from the hand-worked expected value",
    "unused_input": "an input the model is called with (a timestep, a condition, a label) does not change its output",
    "unused_batch_key": (
        "a transition batch's tensor that no torch operation of the loss reads "
        "(a done flag left out of the TD target, actions never gathered)"
    ),
    "schedule_off_by_one": (
        "a buffer holds alpha-bar one step behind its betas (the product over s < t): "
        "alpha-bar_0 = 1, the first noise level adds no noise"
    ),
    "undiscounted_target": (
        "a TD loss unchanged when one constant is added to every Q-value: "
        "a discount of 1 with no terminal, nothing anchors the Q-values"
    ),
    "gradient_through_target": (
        "the loss has a gradient through the model's output on the next states: a bootstrapped (TD) target not detached"
    ),
    "encoder_not_bidirectional": "an encoder's positions do not see later positions: a causal mask left in",
    "padding_leak": "outputs at real positions depend on the content of padded positions",
    "loss_on_unselected_positions": "the loss scores positions whose label should be ignored (MLM labels not ignored)",
    "no_positional_information": (
        "permuting input positions permutes the outputs identically: no positional encoding reaches the model"
    ),
    "saturated_attention": "attention rows nearly one-hot at init (missing 1/sqrt(d_k), oversized init)",
    "negative_kl": "a kl... loss term is negative: a sign error or a wrong formula",
    "loss_below_floor": "the loss fell below the declared loss_floor: a sign error, a missing term, or leaked targets",
    "loss_unbounded": "the loss keeps falling without limit, far below zero",
    "objective_not_improving": "the monitored objective did not improve from the first evaluation to the last",
    "non_finite_metric": "evaluate returned NaN or Inf for a metric",
    "target_below_floor": "target_loss is below the declared loss_floor, which no model reaches: it was raised (info)",
    "train_eval_gap": "the loss in train mode is far below the loss on the same data in eval mode",
    "buffers_not_updated": "BatchNorm running statistics (or other float buffers) never change in training",
    "variant_has_no_effect": "an ablation variant trains exactly like the baseline: the switch does nothing",
    "grad_reaches_copy": (
        "a gradient reaches a frozen copy (target network, EMA, teacher) in train_step: an undetached target"
    ),
    "optimizer_updates_copy": "the optimizer steps a frozen copy's parameters; a copy must change only by its sync",
    "copy_never_synced": "a frozen copy never changed during training while its source did: train_step never syncs it",
    "copy_not_lagging": "a frozen copy equals its source after every step: no lag (EMA decay 0, a sync every step)",
    "schedule_constant": (
        "a schedule never moves: a train_step metric named like one (epsilon, lr, a KL weight) "
        "is flat over the whole run, or a schedule buffer (betas) holds one value in every slot"
    ),
    "causal_not_applicable": (
        "check_dependencies mode='both' on a model without positions at seq_dim (an MLP, a policy): the causal half "
        "was skipped, the batch half ran (info)"
    ),
    "rows_interact": (
        "the batch holds a square matrix over its rows (a graph's adjacency): its rows interact by design, so "
        "check_dependencies leaves their independence unchecked (info)"
    ),
    "term_without_gradient": (
        "a loss term computed with gradients that sends exactly zero to every parameter: it cancels itself "
        "(x - x, a ratio of 1 whose reference was meant detached)"
    ),
    "size_skipped": (
        "an overfit size that cannot run by construction (BatchNorm on one example); judged on the others (info)"
    ),
    "harness_error": "the harness breaks the contract",
    "user_code_error": "an exception in the user's code",
    "device_unavailable": "the requested device does not exist on the worker's machine",
    "timeout": "the run passed timeout_s; the whole process tree was killed",
    "out_of_memory": "the run passed its memory cap (host or device)",
    "crashed": "the worker died from a signal or exited before answering",
    "cluster_lost": (
        "--executor ray: the server lost the Ray cluster (its raylet or head died); no task can run until it reconnects"
    ),
    "worker_start_failed": "the worker interpreter could not start (no torch there, a bad --python)",
    "internal_error": "the server could not read or validate what a worker or a file gave it",
    "unknown_run": "no training run has this run_id",
    "run_record_skipped": "a file under .implement-paper/runs/ is not a valid run record; it was skipped",
    "nothing_measured": (
        "the check ran but measured nothing it can judge (every size skipped, "
        "an all-zero Jacobian): status inconclusive, never pass"
    ),
    "run_elsewhere": "the run belongs to another live server on the same root; this one only reads it",
    "unsafe_record_path": (
        "a run record names a file that is not its own (absolute, `..`, a symlink, not a regular file): not followed"
    ),
    "record_capped": (
        "a run produced more metric or loss-term names than a run records (50 each; "
        "the objective always kept), or its record passed 16 MiB: what was dropped is named"
    ),
}

# Codes that mean the check ran and measured nothing it can judge: the result's status is "inconclusive",
# never "pass" (unless a finding says error or fail).
NOTHING_MEASURED = frozenset({"nothing_measured"})

# Codes that mean the check itself could not run: the result's status is "error".
RUN_FAILURES = frozenset(
    {
        "harness_error",
        "user_code_error",
        "device_unavailable",
        "timeout",
        "out_of_memory",
        "crashed",
        "cluster_lost",
        "worker_start_failed",
        "internal_error",
        "unknown_run",
    }
)


def finding(
    code: str,
    severity: str,
    message: str,
    *,
    where: str | None = None,
    evidence: dict[str, Any] | None = None,
    suggestion: str | None = None,
) -> dict[str, Any]:
    if code not in CODES:
        raise ValueError(f"unknown finding code {code!r}: add it to CODES first")
    return {
        "code": code,
        "severity": severity,
        "message": message,
        "where": where,
        "evidence": evidence or {},
        "suggestion": suggestion,
    }


def sort_findings(findings: list[F]) -> list[F]:
    """Most severe first; a stable sort keeps each check's own order within a severity.

    The one order of findings: a check sorts before its summary quotes the first problem, and
    the server sorts what it receives. Findings as dicts (the worker's) or with a `.severity`."""
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f["severity"] if isinstance(f, dict) else f.severity])
