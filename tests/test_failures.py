"""Who is blamed for an exception inside a worker: the user's code, or ours."""

import torch

from implement_paper.tools.worker import failures


def _raised(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the exception is what the test looks at
        return exc
    raise AssertionError("expected an exception")


def test_an_exception_raised_by_our_code_is_an_internal_error(tmp_path):
    exc = _raised(lambda: failures.clip(None))  # len(None) inside tools/worker/failures.py
    found = failures.exception_finding(exc, str(tmp_path))
    assert found["code"] == "internal_error"
    assert "failures.py" in found["evidence"]["frames"][-1]["where"]


def test_torch_refusing_the_users_model_is_still_the_users(tmp_path):
    layer = torch.nn.Linear(3, 4)  # as a harness's build_model might make, with the wrong width
    exc = _raised(lambda: layer(torch.zeros(2, 5)))
    assert failures.exception_finding(exc, str(tmp_path))["code"] == "user_code_error"


def test_an_exception_in_the_users_file_names_its_line(tmp_path):
    harness = tmp_path / "harness.py"
    harness.write_text("def broken():\n    return 1 / 0\n")
    namespace: dict = {}
    exec(compile(harness.read_text(), str(harness), "exec"), namespace)
    found = failures.exception_finding(_raised(namespace["broken"]), str(tmp_path))
    assert found["code"] == "user_code_error"
    assert found["where"] == "harness.py:2"
