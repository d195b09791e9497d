"""The `details` of every tool a worker answers, typed once for both sides.

The worker builds these dataclasses (a misspelt or unknown field is a TypeError there, naming
it) and sends `dataclasses.asdict()` of them; the server's result models declare them as their
`details`, so pydantic checks the answer against the same classes (an unknown key is refused,
not dropped) and the MCP output schema is built from them: each attribute's docstring is its
field's description. Standard library only: the worker imports it.

compare_metrics and the training-run tools build their details in the server: those stay pydantic
models beside their tools. So does lr_sweep's answer, which the server judges from what its jobs
measured (LrMeasurements, typed here).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import sys
import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:  # tells type checkers what typed_details makes; the worker needs no typing_extensions
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object):
        return lambda decorator: decorator


T = TypeVar("T")
FunctionKind = Literal["function", "autograd.Function", "nn.Module"]  # what a harness attribute resolved to

# Read by pydantic, which validates stdlib dataclasses: unknown keys refused.
_PYDANTIC_CONFIG = {"extra": "forbid"}


@dataclass_transform(kw_only_default=True)
def typed_details(cls: type[T]) -> type[T]:
    """A keyword-only, slotted dataclass: a misspelt field fails whether passed or set. Pydantic refuses
    unknown keys when it reads one and describes each field by its attribute docstring, which this
    puts in the field's metadata: pydantic's own use_attribute_docstrings parses the whole module
    again for every class it meets (0.7 s of the server's start)."""
    cls.__pydantic_config__ = _PYDANTIC_CONFIG  # type: ignore[attr-defined]
    for name, doc in _attribute_docs(cls.__module__).get(cls.__qualname__, {}).items():
        default = cls.__dict__.get(name, dataclasses.MISSING)
        described = default if isinstance(default, dataclasses.Field) else field(default=default)
        described.metadata = types.MappingProxyType({**described.metadata, "description": doc})
        setattr(cls, name, described)
    return dataclass(kw_only=True, slots=True)(cls)


@functools.cache
def _attribute_docs(module: str) -> dict[str, dict[str, str]]:
    """{class: {attribute: its docstring}} for the top-level classes of `module`, from one parse of its source."""
    try:
        source = inspect.getsource(sys.modules[module])
    except (OSError, TypeError):  # no source shipped (a .pyc-only install): fields go undescribed, nothing breaks
        return {}
    docs: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            pairs = zip(node.body, node.body[1:])
            docs[node.name] = {
                statement.target.id: inspect.cleandoc(after.value.value)
                for statement, after in pairs
                if isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            }
    return docs


# ---- shared by several tools ----
@typed_details
class Curve:
    """A loss curve, downsampled: the worker keeps the first and last step and evenly spaced ones between."""

    step: list[int] = field(default_factory=list)
    """Step indices."""
    loss: list[float | None] = field(default_factory=list)
    """Loss at those steps; null where NaN/Inf."""
    terms: dict[str, list[float | None]] | None = None
    """A training run's other per-step values at those steps: what train_step returns beside the loss
    (an epsilon, a behaviour return, a KL weight) and the terms of a loss dict; null where NaN/Inf or not logged."""


@typed_details
class HistoryPoint:
    step: int
    """Optimisation steps done when evaluate ran (0: before training)."""
    metrics: dict[str, float | None]
    """What evaluate returned; null where NaN/Inf."""


# ---- inspect_data ----
@typed_details
class ChannelStats:
    """Statistics along dim 1: channels of an image, features of a (B, F) table."""

    count: int
    """Size of dim 1."""
    mean_range: list[float | None]
    """[lowest, highest] per-channel mean."""
    std_range: list[float | None]
    """[lowest, highest] per-channel std."""
    mean: list[float | None] | None = None
    """Per-channel means (3-D+ inputs, first 16 channels)."""
    std: list[float | None] | None = None
    """Per-channel stds (3-D+ inputs, first 16 channels)."""


@typed_details
class LabelStats:
    num_classes: int | None = None
    """The harness's num_classes, if it defines one."""
    min: int | None
    """Lowest label, padding left out; null when every target is padding."""
    max: int | None
    distinct: int
    """Number of distinct labels in the batch."""
    histogram: list[list[int]]
    """[label, count] pairs of the 20 most frequent labels, by label."""
    other: int = 0
    """Count of labels not listed in the histogram."""
    ignored: int = 0
    """Targets equal to ignore_index: padding, left out of the range and histogram."""
    ignore_index: int = -100
    """The harness's ignore_index (PyTorch's -100 by default)."""


@typed_details
class TensorSummary:
    path: str
    """Where the tensor sits in the batch, e.g. batch[0] or batch['x']."""
    role: str | None = None
    """inputs or targets, as the other tools will read them."""
    shape: list[int]
    dtype: str
    device: str
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    """Over finite elements."""
    std: float | None = None
    """Over finite elements."""
    nan: int = 0
    inf: int = 0
    channels: ChannelStats | None = None
    """Float tensors of 2+ dims: statistics along dim 1."""
    labels: LabelStats | None = None
    """Integer targets: range and histogram."""
    pixel_levels: int | None = None
    """16 or 255 when the tensor holds whole numbers in [0, 16] / [0, 255] stored as an image (uint8 or float, or an integer tensor of 3+ dims): raw pixel levels. Integer (B, T) tensors are token ids."""


@typed_details
class SplitSummary:
    split: str
    supported: bool
    """False when get_batch refused the split (ValueError/KeyError...)."""
    structure: str | None = None
    """The batch's nesting with dtype[shape] per tensor."""
    tensors: list[TensorSummary] = field(default_factory=list)
    """First 16 tensors of the batch."""
    deterministic: bool | None = None
    """Whether two get_batch calls returned identical batches."""
    error: str | None = None


@typed_details
class SplitOverlap:
    splits: list[str]
    """[a, b]: examples of b that also appear in a."""
    sampled: list[int]
    """Examples hashed from a and from b."""
    overlapping: int
    """Examples of b identical to some example of a."""
    pairs: list[list[int]]
    """First (index in a, index in b) pairs."""


@typed_details
class DataDetails:
    batch_size: int
    splits: list[SplitSummary]
    overlap: list[SplitOverlap] = field(default_factory=list)


# ---- inspect_model ----
@typed_details
class ModuleRow:
    name: str
    depth: int
    """0 for the model itself, 1 for its children, ..."""
    type: str
    out: str | None = None
    """Output shape(s) of the first call; null: never called."""
    params: int
    """Parameters of this module and its children; a tied tensor counts under every module that uses it, once in counts.total."""
    trainable: int | None = None
    """Present only when it differs from params."""
    calls: int | None = None
    """Present only when the module ran more than once."""


@typed_details
class InspectDetails:
    counts: dict[str, int]
    """total (shared tensors once), trainable, frozen, buffers, modules, counted_twice_by_naive_sum (what torchinfo would add for tied weights), in_unregistered_modules, in_frozen_copies (target networks, EMA copies: compared with the paper's count without them)."""
    expected_param_count: int | None = None
    shape_trace: list[str] = field(default_factory=list)
    """input -> each top-level block's output, in run order."""
    tree: list[ModuleRow] = field(default_factory=list)
    """Modules to tree_depth; all modules are in full_report."""
    tree_depth: int = 1
    top_modules: list[dict[str, Any]] = field(default_factory=list)
    """Largest modules by their own parameters."""
    params_by_type: dict[str, int] = field(default_factory=dict)
    """Own parameters summed per module type."""
    tied: list[dict[str, Any]] = field(default_factory=list)
    """Parameter names sharing one tensor, with its size."""
    unregistered: list[dict[str, Any]] = field(default_factory=list)
    """Plain-container attributes holding modules."""
    dtypes: dict[str, int] = field(default_factory=dict)
    """Parameter count per 'dtype on device'."""
    copies: list[dict[str, Any]] = field(default_factory=list)
    """Frozen copies (target network, EMA, teacher): copy module, the source it mirrors, its parameters, whether the harness declared it (frozen_copies) or it was inferred."""


# ---- gradient_check ----
@typed_details
class ModuleGradient:
    module: str
    """Module name (<model> for parameters of the root module)."""
    depth: int | None
    """Order in which the forward pass first entered it; null if never."""
    params: int
    """Trainable elements owned directly by this module."""
    grad_norm: float | None
    """L2 norm over its parameters' gradients; null if any is None/NaN."""
    param_norm: float | None
    ratio: float | None
    """grad_norm / param_norm."""
    state: Literal["ok", "no_grad", "zero", "non_finite"]
    """Worst state of its parameters."""


@typed_details
class ParamNorms:
    name: str
    grad_norm: float | None
    param_norm: float | None
    ratio: float | None


@typed_details
class Trend:
    first_module: str
    first_grad_norm: float
    last_module: str
    last_grad_norm: float
    first_last_ratio: float
    """Input-side over output-side gradient norm along one chain of layers; ~1 is healthy. Tied (shared) tensors and embeddings are left out; towers and heads of several layers are chains of their own."""
    max_grad_norm: float
    max_module: str


@typed_details
class ModelGradients:
    loss: float | None
    """Loss of the batch; null when NaN/Inf."""
    counts: dict[str, int]
    """Parameter tensors by state: ok, no_grad, zero, non_finite."""
    trend: Trend | None = None
    modules: list[ModuleGradient]
    """Per-module aggregates by depth (evenly sampled past 30)."""
    modules_total: int | None = None
    largest_grads: list[ParamNorms] = field(default_factory=list)
    smallest_grads: list[ParamNorms] = field(default_factory=list)
    term_reach: dict[str, int] | None = None
    """Loss dicts: per named term, how many parameter tensors it sends a non-zero gradient to."""


@typed_details
class InputError:
    input: str
    """input[i] for the i-th argument, or a parameter name of an nn.Module."""
    shape: list[int]
    max_abs_error: float | None
    max_rel_error: float | None
    mismatched: int
    """Jacobian entries outside atol + rtol * |numerical|."""
    detached: bool = False
    """Every mismatched entry has an analytic gradient of exactly 0: the input is detached or computed under no_grad inside the function."""


@typed_details
class NumericalResult:
    function: str
    kind: FunctionKind
    passed: bool
    max_abs_error: float | None
    max_rel_error: float | None
    eps: float
    atol: float
    rtol: float
    inputs: list[InputError]
    worst: dict[str, float | int | str | None]
    """The Jacobian entry with the largest error."""


@typed_details
class GradientDetails:
    model: ModelGradients | None = None
    """Model mode: one forward/backward pass."""
    numerical: NumericalResult | None = None
    """Numerical mode: the function against finite differences."""


# ---- check_known_values ----
@typed_details
class WorstElement:
    at: str
    """Where in the output, e.g. output[3] or output['kl'] or output[1][0, 2]."""
    expected: float
    got: float | None
    """null when NaN/Inf."""
    abs_error: float | None
    """null when the output is NaN/Inf there."""
    rel_error: float | None
    """abs_error / |expected|; null when expected is 0."""


@typed_details
class CaseResult:
    case: int
    """Index in `cases`."""
    verdict: Literal["match", "mismatch", "error"]
    elements: int = 0
    """Numbers compared."""
    mismatched: int = 0
    """Numbers outside tolerance."""
    max_abs_error: float | None = None
    """Largest |got - expected|; null when NaN/Inf."""
    worst: WorstElement | None = None
    """The element furthest outside (or closest to) tolerance."""
    problem: str | None = None
    """Shape or structure that differs, or the error that stopped the case."""
    pattern: str | None = None
    """How the output relates to the expected value, when it is simple."""
    got: Any = None
    """The output, as JSON (large tensors: shape and the first values)."""
    integer_lists: Literal["int64", "float64", "float32"] | None = None
    """The type lists of integers went in as (int64 first; floats when int64 did not match); null: none."""


@typed_details
class KnownValuesDetails:
    function: str
    kind: FunctionKind
    rtol: float
    atol: float
    dtype: str
    matched: int
    """Cases whose every number is within tolerance."""
    cases: list[CaseResult]


# ---- run_overfit_test ----
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
    """Null for on-policy harnesses: a surrogate has no target."""
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
    """The overfit size whose run was watched (the longest one; the smallest size trains on to `steps` while a copy has not changed)."""
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
    """get_train_batch takes the model and get_batch holds no transitions: each size trains on one fixed batch of rollouts, and its surrogate loss is judged only on moving and staying finite. False for a replay agent (a next-state key in get_batch): it memorises get_batch's fixed transitions."""


# ---- run_ablation ----
@typed_details
class VariantResult:
    name: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    """What this variant changes over the baseline."""
    params: int | None = None
    """Parameter count of the built model."""
    seeds: list[int] = field(default_factory=list)
    initial_loss: float | None = None
    """First seed's first step."""
    final_loss: float | None = None
    """Mean over seeds of the loss over the last 10 steps; null if NaN/Inf."""
    best_loss: float | None = None
    values: list[float] = field(default_factory=list)
    """The ranked quantity (rank_by) per seed."""
    mean: float | None = None
    """Mean of values over seeds: what the ranking sorts."""
    std: float | None = None
    """Sample std of values over seeds; null with one seed."""
    delta_vs_baseline: float | None = None
    """mean minus the baseline's mean, in rank_by's units."""
    within_noise: bool | None = None
    """|delta| within 2 standard errors of the seeds' spread: not a real difference. Null with one seed."""
    final_loss_delta: float | None = None
    """final_loss minus the baseline's."""
    metrics: dict[str, float] = field(default_factory=dict)
    """evaluate() metrics, mean over seeds (metric ranking)."""
    terms: list[str] = field(default_factory=list)
    """Named terms of the loss / train_step dict."""
    adds_up: bool | None = None
    """Whether the final loss is the sum of its named terms (first seed); null without terms."""
    rank: int | None = None
    """1 = best by rank_by; null when the variant failed."""
    steps_run: int | None = None
    non_finite_at_step: int | None = None
    curve: Curve | None = None
    """First seed's training loss."""
    error: str | None = None
    """Set when build_model or training raised for this variant."""
    restates_baseline: bool = False
    """Its keywords restate the baseline's ({"full": {}}): the baseline's runs, not trained again."""


@typed_details
class AblationDetails:
    rank_by: str = "loss"
    """What the ranking sorts: the loss or an evaluate() metric."""
    mode: str = "min"
    """min: lower is better; max: higher is better."""
    seeds: list[int] = field(default_factory=list)
    ranking: list[str]
    """Variant names, best first (failed variants left out)."""
    variants: list[VariantResult]
    """The baseline first, then the variants in the order given."""


@typed_details
class TrainedRun:
    """One (variant, seed) pair trained by a job of a fanned-out ablation, raw, for the job that judges them all."""

    variant: str
    seed: int
    params: int | None = None
    """Parameter count of the built model."""
    losses: list[float | None] = field(default_factory=list)
    """The loss at every step; null where NaN/Inf."""
    terms: dict[str, list[float | None]] = field(default_factory=dict)
    """Named terms of the loss / train_step dict at every step."""
    metrics: dict[str, float | None] = field(default_factory=dict)
    """evaluate() metrics at the end (metric ranking only)."""
    error: str | None = None
    """Set when build_model or training raised."""
    finding: dict[str, Any] | None = None
    """The finding that says why it raised."""


@typed_details
class TrainedRuns:
    runs: list[TrainedRun]


# ---- start_training: what one seed streams and answers ----
@typed_details
class StreamedPoints:
    """The steps trained since the last message."""

    step: list[int] = field(default_factory=list)
    """Step indices; a step's loss is measured before its update."""
    loss: list[float | None] = field(default_factory=list)
    """The loss at those steps; null where NaN/Inf."""
    terms: dict[str, list[float | None]] = field(default_factory=dict)
    """Named terms of the loss / train_step dict at those steps."""
    lr: list[list[float]] = field(default_factory=list)
    """[step, learning rate] at the end of each chunk of steps."""


@typed_details
class SeedProgress:
    """What tools/worker/train_run.py streams while a seed runs (progress `data`)."""

    steps_done: int
    phase: str
    points: StreamedPoints = field(default_factory=StreamedPoints)
    history: list[HistoryPoint] = field(default_factory=list)
    """Evaluations since the last message."""
    findings: list[dict[str, Any]] = field(default_factory=list)
    """Findings known since the last message, as tools/worker/findings.py makes them."""
    objective: dict[str, str] | None = None


@typed_details
class SeedDetails:
    """What tools/worker/train_run.py answers for one seed."""

    seed: int
    steps_run: int
    final_loss: float | None
    best_loss: float | None
    metrics: dict[str, float | None]
    history: list[HistoryPoint]
    curve: Curve
    objective: dict[str, str] | None = None
    data_digest: str | None = None
    """sha256 of the first get_train_batch batches (null on-policy or without get_train_batch): seeds that agree share their data."""


# ---- lr_sweep: what a job measures (the server judges it, tools/lr_sweep.py) ----
@typed_details
class OptimizerInfo:
    name: str
    """Class of the optimiser make_optimizer returned, e.g. SGD, AdamW."""
    family: Literal["sgd", "momentum", "adaptive"]
    """sgd: plain; momentum: SGD-like with momentum > 0; adaptive: Adam and kin. Decides the rule."""
    momentum: float = 0.0


@typed_details
class HarnessTraits:
    """What decides how a sweep can judge the harness."""

    on_policy: bool = False
    """get_train_batch takes the model: the loss is a surrogate whose value says nothing of a rate."""
    scheduler: bool = False
    """The harness defines make_scheduler: a range test, which sets the rate each step, cannot sweep under it."""
    objective: dict[str, str] | None = None
    """The harness's objective ({monitor, mode}), when it declares one: what a grid is judged on."""
    chance_loss: float | None = None
    """ln(num_classes) for the default cross-entropy: the loss of predicting balanced class frequencies; a
    range test that never goes below it learned the output bias, not the task."""


@typed_details
class GridRun:
    """One rate of a grid: a short run from the seeded init."""

    index: int
    """Position of the rate in the whole grid (a job of a split grid runs some of them)."""
    lr: float
    losses: list[float | None]
    """The loss at every step; null where NaN/Inf."""
    blew_up: bool
    """The run ended with its recent loss far above the initial (the worker's early-stop rule)."""
    metrics: dict[str, float | None] = field(default_factory=dict)
    """evaluate() after the run: a harness with an objective whose losses stayed finite."""


@typed_details
class LrMeasurements:
    """What one lr_sweep job measured: a range test, or some rates of a grid (also streamed as each rate ends)."""

    lrs: list[float] = field(default_factory=list)
    """range: the rate of each step that ran."""
    losses: list[float | None] = field(default_factory=list)
    """range: the loss of each step; null where NaN/Inf."""
    points: list[GridRun] = field(default_factory=list)
    """grid: the rates this job ran, in the order it ran them."""
    initial_metrics: dict[str, float | None] = field(default_factory=dict)
    """grid with an objective: evaluate() before training, what a rate must improve on."""
    optimizer: OptimizerInfo | None = None
    """Null when no step ran (a range test skipped for the harness's traits)."""
    traits: HarnessTraits


# ---- check_dependencies ----
@typed_details
class LeakPair:
    output_index: int
    """Example (batch) or position (causal) whose output leaks."""
    input_index: int
    """Example or later position whose input it must not depend on."""
    relative: float
    """Dependence relative to the largest allowed one (own example, or positions <= t)."""


@typed_details
class AxisResult:
    checked: list[int]
    """Output examples or positions checked (first 64); for cuts, the cut positions."""
    checked_pairs: int
    leaking_pairs: int
    max_relative: float | None = None
    """Largest relative dependence over forbidden pairs; 0 means exact zeros."""
    worst: list[LeakPair] = field(default_factory=list)
    """Worst offending pairs, largest first."""
    affected: list[int] = field(default_factory=list)
    """Output examples or positions that leak."""
    first_module: str | None = None
    """First module whose output carries the leak while its inputs do not."""
    plan: Literal["rows", "cuts", "columns", "screen"]
    """rows: one output index per example's cotangent; cuts: every output up to t against inputs after t; columns: one perturbed input index per forward (token ids with no embedding); screen (batch, clean): every example pair at once from two backward passes, the per-example rows measured only when it shows a leak."""
    probes: list[int]
    """The rows, cut positions or perturbed columns measured."""
    covered_pairs: int | None = None
    """Causal: (position, later position) pairs the plan rules out."""
    total_pairs: int | None = None
    """Causal: all such pairs, T(T-1)/2."""
    not_ruled_out: str | None = None
    """Which leaks the plan could not see; null when it saw all."""
    pattern: dict[str, Any] | None = None
    """Causal leak: rows measured, leaking and clean rows, fraction seeing every later position, largest reach, bounded reach (off by one), fraction still seeing the past."""
    likely_causes: list[str] | None = None
    """Causal leak: cause keys, most likely first by the evidence."""
    attention_calls: list[dict[str, Any]] | None = None
    """Causal leak: distinct softmax-over-(T, T)-scores / scaled_dot_product_attention calls seen: the dim normalised and the mask's pattern (causal, none, transposed, off_by_k, other)."""
    encoder: str | None = None
    """Causal leak on a batch that shows an encoder (masked-LM labels, or declared): what shows it. An encoder is meant to see both sides."""


@typed_details
class PositionResult:
    per_position: bool
    """True: the outputs after the shuffled prefix were compared; False: the whole output."""
    trials: list[dict[str, Any]]
    """Per shuffle: prefix length, relative change of the outputs after it, and (per position) how far the prefix's outputs are from the original ones moved with their tokens; or why it was skipped."""
    tolerance: float
    """Relative change at or below which the outputs count as unchanged (float error)."""
    largest_change: float | None = None
    first_changed_module: str | None = None
    """First module whose output moved after the shuffled prefix."""
    blind_first_layer: str | None = None
    """A first-layer module that stayed blind to order while its later twin moved (causal, no PE)."""


@typed_details
class Cost:
    forward_passes: int
    cotangents: int
    """Output masks backpropagated, one input-only backward each (causal rows and cuts are striped, one per example, so a batch of 4 carries 4 in one)."""
    backward_calls: int
    """Backward calls that carried them (a batched call carries many)."""
    batched: bool
    """False when an op had no vmap rule and the masks went one at a time."""
    seconds: float
    """Wall time of the check in the worker, model build included."""


@typed_details
class MechanismResult:
    probe: Literal["condition", "bidirectional", "padding", "supervised_positions", "positions", "batch_key", "bootstrap_target", "discount"]
    """condition: an input the model is called with (or a batch condition key) perturbed alone; bidirectional: an encoder's first position against its later ones; padding: real outputs against padded inputs; supervised_positions: the loss's gradient at ignored labels; positions: an encoder's outputs against its real positions permuted; batch_key: the loss with one batch tensor perturbed; bootstrap_target: the loss's gradient through the model's output on the next states; discount: the loss with every Q-value shifted by one constant."""
    subject: str
    """What was probed: the argument or batch key, the pad mask, the labels."""
    measured: bool
    relative: float | None = None
    """condition: relative change of the output; bidirectional: dependence on later positions; padding and supervised_positions: dependence on what must be ignored; positions: how far the permuted outputs are from the outputs permuted (0: equivariant); batch_key: 1 when a torch operation of the loss read that tensor, 0 when none did; bootstrap_target: norm of the loss's gradient through that output; discount: the loss's change with every Q-value shifted over its change with the states' alone (about 1 - gamma). 0 means exact zeros."""
    note: str | None = None
    """Why nothing was measured."""


@typed_details
class DependencyDetails:
    method: str
    """Gradient w.r.t. the inputs, at an embedding's output, token perturbation, or shuffles."""
    input: int | str | None = None
    """The batch element checked (null: the batch is the input tensor)."""
    input_shape: list[int]
    output_shape: list[int] | None = None
    threshold: float | None = None
    """Relative dependence above which a forbidden pair counts as a leak."""
    batch: AxisResult | None = None
    causal: AxisResult | None = None
    position: PositionResult | None = None
    mechanisms: list[MechanismResult] = field(default_factory=list)
    """Mechanism probes run on the roles the batch shows (batch and both modes)."""
    roles: dict[str, Any] | None = None
    """Batch roles used by the probes: conditions, pad_mask, attention (causal / bidirectional) and how each was found."""
    cost: Cost


# ---- check_initialization ----
@typed_details
class ActivationRow:
    where: str
    """Module running the activation; 'module:fn' for a functional call in its forward."""
    fn: str
    shape: list[int]
    pre_std: float | None = None
    """Std of the pre-activations."""
    mean: float | None = None
    std: float | None = None
    dead_fraction: float | None = None
    """ReLU-like: units never active over the batch."""
    saturated_fraction: float | None = None
    """tanh/sigmoid-like: pre-activations in the flat part."""


@typed_details
class LayerRow:
    layer: str
    type: str
    signal: float | None = None
    """Per-unit std over the batch of the layer's output."""
    mean: float | None = None


@typed_details
class WeightRow:
    layer: str
    shape: list[int]
    fan_in: int
    fan_out: int
    std: float | None
    kaiming_std: float
    """sqrt(2/fan_in): kaiming_normal_ for ReLU."""
    xavier_std: float
    """sqrt(2/(fan_in+fan_out)): xavier, gain 1."""
    default_std: float
    """1/sqrt(3 fan_in): PyTorch's default for Linear/Conv."""
    matches: list[str]
    """Schemes within 15 % of the std; empty: none of them."""


@typed_details
class AttentionRow:
    where: str
    """Module running the attention call."""
    kind: str
    """softmax, scaled_dot_product_attention or MultiheadAttention."""
    shape: list[int]
    """Shape of the attention weights, e.g. (B, heads, T, S)."""
    rows: int
    """Rows with at least three keys to attend to: the ones judged."""
    rows_with_one_key: int
    """Rows a mask leaves one key (a causal first row): one-hot by construction."""
    rows_with_two_keys: int
    """Rows a mask leaves two keys: their largest weight is at least 1/2 whatever the scale, left out too."""
    keys: int
    """Most keys any row may attend to."""
    mean_max_prob: float | None
    """Mean over rows of the largest weight: ~1/keys healthy, ~1 one-hot; null when no row has three keys."""
    mean_entropy_ratio: float | None
    """Mean over rows of entropy / ln(keys): ~1 healthy, ~0 one-hot; null when no row has three keys."""
    one_hot_fraction: float | None
    """Rows whose largest weight is above 0.9; null when no row has three keys."""


@typed_details
class InitDetails:
    init_loss: float | None = None
    terms: dict[str, float] = field(default_factory=dict)
    """The other named terms of a loss dict at init."""
    expected_loss: float | None = None
    expected_from: str | None = None
    """Where the expected loss comes from, or why there is none."""
    ratio: float | None = None
    """init_loss / expected_loss."""
    tolerance: float | None = None
    inputs: dict[str, Any] | None = None
    """Mean, std, min, max of the float inputs."""
    activations: list[ActivationRow] = field(default_factory=list)
    """In forward order; sampled when many."""
    layers: list[LayerRow] = field(default_factory=list)
    """Linear/Conv outputs in forward order."""
    attention: list[AttentionRow] = field(default_factory=list)
    """Attention calls in forward order."""
    trend: dict[str, Any] | None = None
    """Signal of the last Linear/Conv over the input's."""
    weights: list[WeightRow] = field(default_factory=list)
    init_schemes: dict[str, int] = field(default_factory=dict)
    """Layers matching each init scheme."""
    rows_total: dict[str, int] = field(default_factory=dict)
    """Rows before sampling; all are in the report."""
