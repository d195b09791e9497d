"""The worker protocol's messages (tools/wire/messages.py): each one survives the trip, and a
message that does not fit its type is refused with the key named, on either side. Each check's
arguments are a message too: the server's arguments model and the worker's request type agree."""

import dataclasses
import os
from dataclasses import fields

import pytest

from implement_paper.tools.check_dependencies import tool as dependencies
from implement_paper.tools.check_initialization import tool as initialization
from implement_paper.tools.check_known_values import tool as known_values
from implement_paper.tools.gradient_check import tool as gradients
from implement_paper.tools.inspect_data import tool as data_inspect
from implement_paper.tools.inspect_model import tool as model_inspect
from implement_paper.tools.lr_sweep.tool import LrSweepArgs, _GridChunkArgs
from implement_paper.tools.run_ablation.tool import AblationArgs, _AblationPart
from implement_paper.tools.run_overfit_test import tool as overfit
from implement_paper.tools.runtime.envelope import Finding
from implement_paper.tools.runtime.harness_args import HarnessArgs
from implement_paper.tools.training.tool import StartTrainingArgs
from implement_paper.tools.wire import protocol
from implement_paper.tools.wire.findings import ERROR, INFO, WARNING, finding, sort_findings
from implement_paper.tools.wire.messages import (
    CHECK_REQUESTS,
    Answer,
    Exited,
    Job,
    JobRequest,
    MessageError,
    Progress,
    Ready,
    Result,
    Started,
    read,
)
from implement_paper.tools.worker.job import _highest_fd, run_job

EXAMPLES = [
    JobRequest(
        check="run_overfit_test",
        root="/p",
        harness="/p/h.py",
        names={"build_model": "make"},
        model_kwargs={"d": 4},
        seed=3,
    ),
    Job(id="7", memory_limit_mb=512.0),
    Ready(),
    Started(id="7", pid=123, cgroup=None),
    Exited(id="7", returncode=-9, peak_rss_mb=88.5, killed_for_memory=True),
    Progress(done=3, total=10.0, message="step 3", data={"loss": [1.0]}),
    Result(payload={"summary": "s", "findings": []}),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: m.TYPE)
def test_every_message_survives_the_wire(message):
    assert read(protocol.decode(protocol.encode(message.to_dict())), type(message)) == message


@pytest.mark.parametrize(
    "data, words",
    [
        ({"type": "started", "pid": 1}, "the started message has no 'id'"),
        ({"type": "started", "id": "1", "pid": 1, "pgid": 1}, "unknown key 'pgid'"),
        ({"type": "exited", "id": "1", "returncode": "0"}, "'returncode' must be"),
        ({"type": "progress", "done": True}, "'done' must be float"),
        ({"type": "finished", "id": "1"}, "of type 'finished'"),
        (["started"], "must be a JSON object"),
    ],
)
def test_a_message_that_does_not_fit_names_the_key(data, words):
    with pytest.raises(MessageError, match=words):
        read(data, Started, Exited, Progress)


def test_the_request_carries_every_harness_argument():
    # A HarnessArgs field the request does not carry would be dropped on the way to the worker.
    carried = {f.name for f in fields(JobRequest)}
    assert set(HarnessArgs.model_fields) - {"timeout_s"} <= carried  # the timeout is the server's to enforce


def _answer_to(request: dict) -> Answer:
    read_end, write_end = os.pipe()
    assert run_job(request, write_end) == 0
    os.close(_highest_fd())  # where run_job moved the pipe, for the job's exit to close; this process goes on
    with os.fdopen(read_end, "rb") as pipe:
        return Answer.from_fields(read(protocol.decode(pipe.readline()), Result).payload)


def test_a_request_the_worker_cannot_read_is_answered_as_an_internal_error():
    answer = _answer_to({"type": "request", "check": "run_overfit_test", "harness": "/h.py"})
    assert [f["code"] for f in answer.findings] == ["internal_error"]
    assert "the request message has no 'root'" in answer.summary


# Worker check -> (the tool's public arguments, the widest model the server sends it: a fanned-out part's).
SERVER_ARGS = {
    "run_ablation": (AblationArgs, _AblationPart),
    "inspect_data": (data_inspect.DataArgs,) * 2,
    "check_dependencies": (dependencies.DependencyArgs,) * 2,
    "gradient_check": (gradients.GradientArgs,) * 2,
    "check_initialization": (initialization.InitArgs,) * 2,
    "check_known_values": (known_values.KnownValuesArgs,) * 2,
    "lr_sweep": (LrSweepArgs, _GridChunkArgs),
    "inspect_model": (model_inspect.InspectArgs,) * 2,
    "run_overfit_test": (overfit.OverfitArgs,) * 2,
    "training": (StartTrainingArgs,) * 2,
}


def _own_fields(model: type[HarnessArgs]) -> set[str]:
    return set(model.model_fields) - set(HarnessArgs.model_fields)


@pytest.mark.parametrize("check", sorted(SERVER_ARGS))
def test_each_check_reads_every_argument_its_tool_sends(check):
    """Every field check_args() sends is a field of the worker's request (else the worker refuses it),
    and only the fields a public call lacks have a worker-side default."""
    public, widest = SERVER_ARGS[check]
    request = {f.name: f for f in fields(CHECK_REQUESTS[check])}
    assert set(request) == _own_fields(widest)
    defaulted = {name for name, f in request.items() if f.default is not dataclasses.MISSING}
    assert defaulted == _own_fields(widest) - _own_fields(public)


def test_every_worker_check_has_a_request_type():
    assert set(CHECK_REQUESTS) == set(SERVER_ARGS)


@pytest.mark.parametrize(
    "check, args, words",
    [
        (
            "inspect_model",
            {"batch_size": "2", "expected_param_count": None, "tolerance": 0.01},
            "'batch_size' must be int",
        ),
        ("inspect_model", {"batch_size": 2, "expected_param_count": None}, "has no 'tolerance'"),
        (
            "inspect_model",
            {"batch_size": 2, "expected_param_count": None, "tolerance": 0.01, "tolerence": 0.1},
            "unknown key 'tolerence'",
        ),
        (
            "check_known_values",
            {"function": "f", "cases": {"args": []}, "rtol": 0, "atol": 0, "dtype": "float64"},
            "'cases' must be list",
        ),
        (
            "run_overfit_test",
            {"sizes": [1, "8"], "steps": 5, "lr": 0.1, "target_loss": None},
            "'sizes' must be list[int]",
        ),
        (
            "lr_sweep",
            {
                "min_lr": 1e-5,
                "max_lr": 1,
                "num_lrs": None,
                "steps": 5,
                "batch_size": 8,
                "mode": "grid",
                "baseline": {"accuracy": "high"},
            },
            "'baseline' must be dict[str, float] | None",
        ),
        ("no_such_check", {}, "no worker check 'no_such_check'"),
    ],
)
def test_arguments_the_worker_cannot_read_are_an_internal_error_naming_the_key(check, args, words):
    """Read once, before the harness loads: a check never meets a missing or mistyped argument mid-run."""
    answer = _answer_to(JobRequest(check=check, root="/p", harness="/p/h.py", args=args).to_dict())
    assert [f["code"] for f in answer.findings] == ["internal_error"]
    assert words in answer.summary


def test_findings_have_one_order_on_both_sides():
    items = [
        finding("metric_not_reported", INFO, "i"),
        finding("diverged", WARNING, "w"),
        finding("overfit_failed", ERROR, "e"),
    ]
    assert [f["severity"] for f in sort_findings(items)] == [ERROR, WARNING, INFO]
    models = [Finding.model_validate(f) for f in items]
    assert [f.message for f in sort_findings(models)] == ["e", "w", "i"]
