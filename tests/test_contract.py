"""The worker/server contract of each tool's details (tools/wire/details.py), checked on what is really sent.

Each tool runs for real through the MCP client on fixtures chosen to fill its details as far as they go.
The payload the worker sent is caught on its way out of the worker pool and must validate against the
details class the server declares, with nothing refused, dropped or coerced: dumping what pydantic read
gives the payload back. Every field of the class (nested ones too) must be filled by some call, except
the few each test names, so a field the worker stops sending cannot hide here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from conftest import call, finding_of
from pydantic import TypeAdapter

from implement_paper.tools.check_dependencies.details import DependencyDetails
from implement_paper.tools.check_initialization.details import InitDetails
from implement_paper.tools.check_known_values.details import KnownValuesDetails
from implement_paper.tools.gradient_check.details import GradientDetails
from implement_paper.tools.inspect_data.details import DataDetails
from implement_paper.tools.inspect_model.details import InspectDetails
from implement_paper.tools.lr_sweep.details import LrMeasurements
from implement_paper.tools.run_ablation.details import AblationDetails
from implement_paper.tools.run_overfit_test.details import OverfitDetails
from implement_paper.tools.runtime.runner import WorkerPool
from implement_paper.tools.training.details import SeedDetails, SeedProgress

pytestmark = pytest.mark.anyio


@dataclasses.dataclass
class Sent:
    answers: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # each job's result payload
    streamed: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # each progress message's data


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """What the workers of the test sent, in the order it came."""
    caught = Sent()
    original = WorkerPool.run

    async def run(self: WorkerPool, request: dict[str, Any], *, on_data=None, **kwargs: Any):
        def keep(data: dict[str, Any]) -> None:
            caught.streamed.append(data)
            on_data(data)

        outcome = await original(self, request, on_data=keep if on_data else None, **kwargs)
        caught.answers.append(outcome.payload)
        return outcome

    monkeypatch.setattr(WorkerPool, "run", run)
    return caught


def _nested(hint: Any, value: Any) -> typing.Iterator[tuple[type, Any]]:
    """(dataclass, its JSON) for each dataclass inside a value of type `hint`."""
    if value is None:
        return
    if dataclasses.is_dataclass(hint):
        yield hint, value
    elif get_origin(hint) is list:
        for item in value:
            yield from _nested(get_args(hint)[0], item)
    elif get_origin(hint) is dict:
        for item in value.values():
            yield from _nested(get_args(hint)[1], item)
    elif get_origin(hint) in (Union, types.UnionType):
        for arm in get_args(hint):
            yield from _nested(arm, value)


def filled(cls: type, data: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted names of the fields (nested too) that hold something: not null, not empty."""
    names = set()
    hints = get_type_hints(cls)
    for field in dataclasses.fields(cls):
        value = data[field.name]
        if value is None or value == [] or value == {}:
            continue
        names.add(prefix + field.name)
        for inner, inner_data in _nested(hints[field.name], value):
            names |= filled(inner, inner_data, f"{prefix}{field.name}.")
    return names


def all_fields(cls: type, prefix: str = "") -> set[str]:
    names = set()
    hints = get_type_hints(cls)
    for field in dataclasses.fields(cls):
        names.add(prefix + field.name)
        for arm in _dataclasses_in(hints[field.name]):
            names |= all_fields(arm, f"{prefix}{field.name}.")
    return names


def _dataclasses_in(hint: Any) -> set[type]:
    if dataclasses.is_dataclass(hint):
        return {hint}
    return {inner for arg in get_args(hint) for inner in _dataclasses_in(arg)}


def assert_contract(cls: type, answers: list[dict[str, Any]], unfilled: set[str] = frozenset()) -> None:
    """Each answer's details read by the server exactly as sent; every field filled somewhere but `unfilled`."""
    assert answers
    for answer in answers:
        assert answer["details"] is not None, answer["summary"]
    assert_read_as_sent(cls, [answer["details"] for answer in answers], unfilled)


def assert_read_as_sent(cls: type, messages: list[dict[str, Any]], unfilled: set[str]) -> None:
    adapter = TypeAdapter(cls)
    seen: set[str] = set()
    for sent_details in messages:
        read = adapter.validate_python(sent_details)  # extra keys forbidden: an added key fails here
        assert adapter.dump_python(read, mode="json") == sent_details  # nothing dropped or coerced
        seen |= filled(cls, sent_details)
    assert all_fields(cls) - seen == set(unfilled), "fields no fixture filled (or filled that were listed unfilled)"


async def test_inspect_data(client, sent):
    for harness, splits in [
        ("data_raw_pixels.py", ["train", "test"]),  # images: channels per channel, raw pixel levels, labels
        ("data_split_overlap.py", ["train", "test"]),  # overlapping pairs
        ("data_padded_custom_index.py", ["train"]),  # padding: ignored targets
        ("data_train_only.py", ["train", "test"]),  # a split get_batch refuses: error
        ("data_nan_feature.py", ["train"]),  # NaN and Inf counts
    ]:
        await call(
            client, "inspect_data", {"harness": harness, "splits": splits, "batch_size": 64, "overlap_sample": 1024}
        )
    assert_contract(DataDetails, sent.answers)


@pytest.mark.slow
async def test_inspect_model(client, sent):
    for harness in ("inspect_tied_lm.py", "inspect_unregistered.py", "inspect_deep_stack.py", "copy_dqn_clean.py"):
        await call(client, "inspect_model", {"harness": harness, "expected_param_count": 1000})
    assert_contract(InspectDetails, sent.answers, unfilled={"tree.calls"})  # a frozen target: tree.trainable


async def test_gradient_check(client, sent):
    await call(client, "gradient_check", {"harness": "grad_vae_clean.py"})  # a loss dict: term_reach
    await call(
        client,
        "gradient_check",
        {"harness": "grad_bad_backward.py", "numerical": {"function": "Swish", "input_shapes": [[2, 3]]}},
    )
    assert_contract(GradientDetails, sent.answers)


RETURNS_CASE = {"args": [[1, 0, 0, 0, 1], 0.9], "expected": [1.6561, 0.729, 0.81, 0.9, 1.0]}


async def test_check_known_values(client, sent):
    raising = {"args": [[1, 0], 0.9, None, "surplus"], "expected": [1.0, 0.0]}  # too many arguments: an error case
    await call(
        client,
        "check_known_values",
        {"harness": "known_returns_forward.py", "function": "discounted_returns", "cases": [RETURNS_CASE, raising]},
    )
    assert_contract(KnownValuesDetails, sent.answers)


@pytest.mark.slow
async def test_run_overfit_test(client, sent):
    await call(client, "run_overfit_test", {"harness": "overfit_tiny_vae.py", "sizes": [1, 4], "steps": 30, "lr": 0.01})
    await call(client, "run_overfit_test", {"harness": "overfit_batchnorm.py", "sizes": [1, 8], "steps": 30})
    await call(
        client, "run_overfit_test", {"harness": "clean_mlp.py", "sizes": [1], "steps": 200, "lr": 0.01}
    )  # memorised
    await call(client, "run_overfit_test", {"harness": "overfit_log_zero.py", "sizes": [4], "steps": 30})  # non-finite
    await call(
        client, "run_overfit_test", {"harness": "no_optimizer_step.py", "sizes": [4], "steps": 10}
    )  # nothing moves
    await call(
        client, "run_overfit_test", {"harness": "overfit_reinforce.py", "sizes": [2], "steps": 10}
    )  # on-policy: skipped
    await call(
        client, "run_overfit_test", {"harness": "copy_dqn_clean.py", "sizes": [4], "steps": 10}
    )  # a target network
    assert_contract(
        OverfitDetails, sent.answers, unfilled={"sizes.curve.terms"}
    )  # train_step values: training runs only


@pytest.mark.slow
async def test_run_ablation(client, sent):
    args = {
        "harness": "ablation_vae_kl.py",
        "variants": {"no_kl": {"beta": 0.0}, "broken": {"no_such_kwarg": 1}},
        "steps": 20,
        "seeds": [0, 1],
    }
    await call(client, "run_ablation", args)
    await call(
        client,
        "run_ablation",
        {"harness": "train_clean.py", "variants": {"wide": {"hidden": 64}}, "steps": 10, "rank_by": "accuracy"},
    )
    assert_contract(AblationDetails, sent.answers, unfilled={"variants.non_finite_at_step", "variants.curve.terms"})


@pytest.mark.slow
async def test_lr_sweep(client, sent):
    """Each job's measurements (a range test, a grid's parallel jobs, auto's skipped range test) and what a grid
    job streamed as each rate ended."""
    deep = {"harness": "lr_deep_tanh_sgd.py", "min_lr": 1e-6, "max_lr": 1.0, "batch_size": 32, "num_lrs": 20}
    ran = await call(client, "lr_sweep", {**deep, "mode": "auto"})  # a classifier (ln C), inconclusive: a grid
    assert ran["details"]["fallback"] and "inconclusive" in ran["details"]["fallback"], ran["summary"]
    grid = {"mode": "grid", "min_lr": 1e-3, "max_lr": 1e-1, "num_lrs": 2, "steps": 5}
    await call(client, "lr_sweep", {"harness": "train_clean.py", **grid})  # an objective: metrics before and after
    skipped = await call(client, "lr_sweep", {"harness": "lr_scheduled.py", "mode": "auto", "num_lrs": 20, "steps": 5})
    assert "make_scheduler" in skipped["details"]["fallback"], skipped["summary"]
    assert_contract(LrMeasurements, sent.answers)
    grid_messages = [data["grid"] for data in sent.streamed if "grid" in data]  # the others: training curve points
    assert_read_as_sent(LrMeasurements, grid_messages, unfilled={"lrs", "losses"})


@pytest.mark.slow
async def test_training_seed(client, sent):
    """A seed's answer, and every progress message it streamed (loss terms and findings from a VAE's run)."""
    for harness in ("train_clean.py", "train_negative_kl.py"):
        started = await call(client, "start_training", {"harness": harness, "steps": 20, "eval_every": 10})
        for _ in range(30):
            status = await call(client, "training_status", {"run_id": started["details"]["run_id"], "wait_s": 10})
            if status["details"]["status"] not in ("queued", "running"):
                break
        assert status["details"]["status"] == "completed", status["summary"]
    assert_contract(SeedDetails, sent.answers)
    assert_read_as_sent(SeedProgress, sent.streamed, unfilled=set())


async def test_a_renamed_key_is_an_internal_error_naming_it(client, monkeypatch):
    """A worker answer whose details do not fit (a key renamed on one side only) becomes a finding that
    names the key, not the SDK's opaque 'Error executing tool'; in the worker, the dataclass refuses it."""
    original = WorkerPool.run

    async def renaming(self: WorkerPool, request: dict[str, Any], **kwargs: Any):
        outcome = await original(self, request, **kwargs)
        outcome.payload["details"]["depth_of_tree"] = outcome.payload["details"].pop("tree_depth")
        return outcome

    monkeypatch.setattr(WorkerPool, "run", renaming)
    result = await call(client, "inspect_model", {"harness": "clean_mlp.py"})
    found = finding_of(result, "internal_error")
    assert result["status"] == "error" and ("tree_depth" in found["message"] or "depth_of_tree" in found["message"])
    with pytest.raises(TypeError, match="depth_of_tree"):
        InspectDetails(counts={}, depth_of_tree=1)


async def test_check_dependencies(client, sent):
    """A causal leak (its pattern, ranked causes and attention calls), a leak between examples, a clean model's
    cuts (what they leave open), a blind first layer in position mode; each with its cost."""
    for args in [
        {"harness": "dep_no_causal_mask.py", "mode": "causal"},
        {"harness": "dep_norm_over_batch.py", "mode": "batch"},
        {"harness": "dep_clean_block.py", "mode": "both", "input": 0},  # the screen's and the cuts' blind spots
        {"harness": "dep_pe_not_added.py", "mode": "position", "model_kwargs": {"causal": True}},
        {"harness": "dep_encoder_mlm.py"},  # the mechanism probes and the roles they ran on
        {"harness": "dep_encoder_mlm.py", "mode": "causal"},  # an encoder's leak, said to be by design
    ]:
        await call(client, "check_dependencies", args)
    causal_only = {"pattern", "likely_causes", "attention_calls", "covered_pairs", "total_pairs", "encoder"}
    unmeasured = {"mechanisms.note"}  # a probe that could not run (no fixture needs one)
    assert_contract(DependencyDetails, sent.answers, unfilled={f"batch.{name}" for name in causal_only} | unmeasured)


async def test_check_initialization(client, sent):
    """Attention rows, dead ReLUs, saturated tanh units, a loss dict's terms."""
    for harness in (
        "init_attention_saturated.py",
        "init_dead_relu.py",
        "init_huge_tanh.py",
        "init_tiny_vae_recon_mean.py",
    ):
        await call(client, "check_initialization", {"harness": harness, "batch_size": 16})
    assert_contract(InitDetails, sent.answers)


# The public interface as of issue 29: tool names and their arguments may be extended, never renamed
# or removed, and no argument may become required.
COMMON = ["harness", "names", "model_kwargs", "seed", "device", "timeout_s"]
ARGUMENTS = {
    "inspect_data": [*COMMON, "batch_size", "overlap_sample", "splits"],
    "inspect_model": [*COMMON, "batch_size", "expected_param_count", "tolerance"],
    "check_initialization": [*COMMON, "batch_size", "expected_init_loss", "tolerance"],
    "run_overfit_test": [*COMMON, "lr", "sizes", "steps", "target_loss"],
    "gradient_check": [*COMMON, "batch_size", "numerical"],
    "check_known_values": [*COMMON, "atol", "cases", "dtype", "function", "rtol"],
    "check_dependencies": [*COMMON, "batch_size", "exhaustive", "input", "max_positions", "mode", "seq_dim"],
    "lr_sweep": [*COMMON, "batch_size", "max_lr", "min_lr", "mode", "num_lrs", "steps"],
    "run_ablation": [*COMMON, "batch_size", "lr", "rank_by", "seeds", "steps", "variants"],
    "start_training": [*COMMON, "baseline", "batch_size", "ceiling", "eval_every", "label", "lr", "seeds", "steps"],
    "training_status": ["baseline", "ceiling", "reach", "run_id", "wait_s"],
    "cancel_training": ["run_id"],
    "list_runs": ["limit"],
    "compare_metrics": [
        "baseline",
        "bounds",
        "ceiling",
        "higher_is_better",
        "measured",
        "rel_tolerance",
        "reported",
        "reported_is",
        "run_id",
        "tolerance",
    ],
}
REQUIRED = {
    "check_known_values": {"harness", "function", "cases"},
    "run_ablation": {"harness", "variants"},
    "compare_metrics": {"reported"},
    "training_status": {"run_id"},
    "cancel_training": {"run_id"},
    "list_runs": set(),
}
ENVELOPE = {"status", "summary", "findings", "details", "run", "artifacts"}


async def test_tools_and_their_arguments_are_only_ever_extended(client):
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(ARGUMENTS) <= set(listed)
    for name, arguments in ARGUMENTS.items():
        schema = listed[name].input_schema
        assert set(arguments) <= set(schema["properties"]), name
        assert set(schema.get("required", [])) <= REQUIRED.get(name, {"harness"}), name
        assert ENVELOPE <= set(listed[name].output_schema["properties"]), name


async def test_the_common_parameters_are_declared_once_for_every_runner_tool(client):
    """One typed declaration (tools/runtime/harness_args.py): the same schema, bounds and description everywhere,
    but where a tool declares its own (start_training's timeout_s is per seed, up to a week)."""
    own = {"start_training": {"timeout_s"}}
    listed = [tool for tool in (await client.list_tools()).tools if "harness" in tool.input_schema["properties"]]
    first = listed[0].input_schema["properties"]
    for tool in listed[1:]:
        shared = [name for name in COMMON if name not in own.get(tool.name, set())]
        assert {k: tool.input_schema["properties"][k] for k in shared} == {k: first[k] for k in shared}, tool.name
