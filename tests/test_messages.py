"""The worker protocol's messages (tools/worker/messages.py): each one survives the trip, and a
message that does not fit its type is refused with the key named, on either side."""

import os
from dataclasses import fields

import pytest

from implement_paper.tools.envelope import Finding
from implement_paper.tools.harness_tool import HarnessArgs
from implement_paper.tools.worker import protocol
from implement_paper.tools.worker.findings import ERROR, INFO, WARNING, finding, sort_findings
from implement_paper.tools.worker.job import run_job
from implement_paper.tools.worker.messages import (
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

EXAMPLES = [
    JobRequest(check="overfit", root="/p", harness="/p/h.py", names={"build_model": "make"}, model_kwargs={"d": 4}, seed=3),
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


def test_a_request_the_worker_cannot_read_is_answered_as_an_internal_error():
    read_end, write_end = os.pipe()
    assert run_job({"type": "request", "check": "overfit", "harness": "/h.py"}, write_end) == 0
    with os.fdopen(read_end, "rb") as pipe:
        result = read(protocol.decode(pipe.readline()), Result)
    answer = Answer.from_fields(result.payload)
    assert [f["code"] for f in answer.findings] == ["internal_error"]
    assert "the request message has no 'root'" in answer.summary


def test_findings_have_one_order_on_both_sides():
    items = [finding("metric_not_reported", INFO, "i"), finding("diverged", WARNING, "w"), finding("overfit_failed", ERROR, "e")]
    assert [f["severity"] for f in sort_findings(items)] == [ERROR, WARNING, INFO]
    models = [Finding.model_validate(f) for f in items]
    assert [f.message for f in sort_findings(models)] == ["e", "w", "i"]
