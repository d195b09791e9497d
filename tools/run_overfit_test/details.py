"""The details run_overfit_test answers with: stdlib dataclasses both sides type (see tools/wire/details.py)."""

from __future__ import annotations

from dataclasses import field

from ..wire.details import Curve, typed_details


@typed_details
class TermValues:
    initial: float | None = None
    """The term at init, on the fixed batch."""
    final: float | None = None
    """The term at the last training step."""


@typed_details
class ModeCheck:
    train_mode_loss: float | None = None
    """Loss on the batch after training, in train mode."""
    eval_mode_loss: float | None = None
    """The same in eval mode (BatchNorm running stats, no dropout)."""
    buffers_tracked: int | None = None
    """Running-statistics buffers checked for updates."""
    skipped: str | None = None
    """Why the train/eval checks did not run at this size."""


@typed_details
class SizeResult:
    size: int
    initial_loss: float | None = None
    final_loss: float | None = None
    """Loss at the last step."""
    end_loss: float | None = None
    """Median of the last 5 steps: what the verdict uses."""
    best_loss: float | None = None
    loss_floor: float | None = None
    """The harness's loss_floor on this batch."""
    target_loss: float | None = None
    """Null for a loss with no target: on-policy surrogates, adversarial games, loss_floor = -inf."""
    steps_run: int | None = None
    steps_to_target: int | None = None
    """First step at or below the target; null if never."""
    reached_target: bool = False
    params_changed: bool | None = None
    """Whether any parameter moved during training."""
    batch_statistics: bool | None = None
    """The model keeps running statistics (BatchNorm)."""
    unchanged_params: list[str] = field(default_factory=list)
    """Parameters that never moved (first 10)."""
    non_finite_at_step: int | None = None
    terms: dict[str, TermValues] = field(default_factory=dict)
    """Named terms of a loss or train_step dict."""
    mode: ModeCheck | None = None
    """Train-mode vs eval-mode loss and running-statistics buffers."""
    curve: Curve | None = None
    error: str | None = None
    """Set when the user's code raised at this size."""


@typed_details
class CopyTrace:
    copy: str
    """The copy's module name (a target network, an EMA copy, a teacher)."""
    source: str
    """The module it mirrors."""
    size: int
    """The overfit size whose run was watched (the longest one; the smallest size trains on to `steps` while a copy has
    not changed)."""
    steps: int
    """train_step calls watched."""
    grad_abs_sum: float
    """Sum of |gradient| that reached the copy's parameters over those steps; 0 for a detached target."""
    optimizer_stepped: bool
    """The optimizer holds the copy's parameters and updated them (state or gradients)."""
    changed: bool
    """The copy's values differ at the end of the run from its values at the start."""
    source_changed: bool
    equal_to_source_every_step: bool
    """After every step the copy was identical to its source: no lag."""
    equal_at_build: bool = True
    """The copy equalled its source at build (a deepcopy): only such a copy is expected to sync."""


@typed_details
class OverfitDetails:
    sizes: list[SizeResult]
    copies: list[CopyTrace] = field(default_factory=list)
    """Frozen copies (inferred, or the harness's frozen_copies) and what train_step did to them."""
    on_policy: bool = False
    """get_train_batch takes the model and get_batch holds no transitions: each size trains on one fixed batch of
    rollouts, and its surrogate loss is judged only on moving and staying finite. False for a replay agent (a next-state
    key in get_batch): it memorises get_batch's fixed transitions."""
