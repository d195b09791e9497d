"""Bad input (issue 5): every argument is validated with a message an agent can act on,
fuzzing through the client never breaks the protocol, paths outside --root are refused,
and the harness is imported only in a worker, never in the server."""

import math
import os

import pytest
from anyio.from_thread import start_blocking_portal
from conftest import connect
from hypothesis import HealthCheck, given, settings, strategies as st
from reliability_support import TOOL, RawStdioServer, hostile, make_root

RUN_STATUSES = {"pass", "warn", "fail", "error", "inconclusive"}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = make_root(tmp_path_factory)
    outside = root.parent / "outside_harness.py"
    outside.write_text((root / "hostile.py").read_text())
    (root / "link_out.py").symlink_to(outside)
    return root


@pytest.fixture(scope="module")
def portal_client(root):
    """One server for the module, driven from synchronous (hypothesis) tests via a portal."""
    with start_blocking_portal("asyncio") as portal:
        with portal.wrap_async_context_manager(connect(root, timeout_s=5, max_workers=2)) as client:
            yield portal, client


def call_raw(portal_client, tool, arguments):
    portal, client = portal_client
    return portal.call(lambda: client.call_tool(tool, arguments))


def assert_readable_refusal(result, *needles):
    """An is_error result whose text says what was wrong (not a hidden crash)."""
    assert result.is_error
    text = result.content[0].text
    assert "Invalid arguments" in text or "validation error" in text, text
    for needle in needles:
        assert needle in text, text


def assert_envelope(result):
    """A result envelope; marked isError exactly when its status is "error" (the check could not run)."""
    content = result.structured_content
    assert content is not None, result.content[0].text
    assert content["status"] in RUN_STATUSES and isinstance(content["summary"], str) and content["summary"]
    assert isinstance(content["findings"], list)
    assert result.is_error == (content["status"] == "error")


@pytest.mark.parametrize(
    "tool, arguments, needles",
    [
        ("run_overfit_test", {"sizes": [-1]}, ["sizes", "between 1 and"]),
        ("run_overfit_test", {"sizes": []}, ["sizes", "at least 1"]),
        ("run_overfit_test", {"steps": 10**12}, ["steps", "less than or equal"]),
        ("run_overfit_test", {"step": 5}, ["step: not an argument", "steps"]),  # misspelt: not silently dropped
        ("run_overfit_test", {"device": "tpu"}, ["device", "'cuda'"]),
        ("lr_sweep", {"min_lr": 0.1, "max_lr": 0.01}, ["min_lr"]),
        ("lr_sweep", {"num_lrs": 0}, ["num_lrs"]),
        ("inspect_model", {"batch_size": -3}, ["batch_size"]),
    ],
)
def test_bad_arguments_get_an_actionable_message(portal_client, tool, arguments, needles):
    assert_readable_refusal(call_raw(portal_client, tool, {"harness": "hostile.py", **arguments}), *needles)


def test_nan_in_reported_is_refused(portal_client):
    result = call_raw(portal_client, "compare_metrics", {"reported": {"acc": math.nan}, "measured": {"acc": 0.9}})
    assert_readable_refusal(result, "reported")


@pytest.mark.skipif(os.path.exists("/dev/nvidia0"), reason="this machine has a GPU")
@pytest.mark.slow
def test_cuda_on_a_machine_without_it_is_device_unavailable(portal_client):
    result = call_raw(portal_client, TOOL, hostile("none", device="cuda"))
    assert_envelope(result)
    assert [f["code"] for f in result.structured_content["findings"]] == ["device_unavailable"]


@pytest.mark.parametrize(
    "path", ["/etc/hostname", "../outside_harness.py", "link_out.py", "sub/../../outside_harness.py"]
)
def test_paths_outside_the_root_are_refused(portal_client, root, path):
    result = call_raw(portal_client, TOOL, {"harness": path})
    assert_envelope(result)
    [finding] = result.structured_content["findings"]
    assert finding["code"] == "harness_error" and "outside the project root" in finding["message"]
    assert not (root / "spawned.pids").exists()


def _junk():
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.lists(st.one_of(st.integers(-5, 10**7), st.floats()), max_size=4),
        st.dictionaries(st.text(max_size=6), st.one_of(st.floats(), st.lists(st.floats(), max_size=3)), max_size=3),
    )


def _value_for(name, schema):
    """Values of the schema's own type (within and outside its bounds) or junk."""
    if name == "harness":
        return st.sampled_from(["hostile.py", "missing.py", "/etc/passwd", "..", ""])
    if name == "timeout_s":
        return st.sampled_from([3, 0, -1, 1e9])  # a valid call must stay short
    kinds = {s.get("type") for s in schema.get("anyOf", [schema])}
    typed = []
    if "integer" in kinds:
        typed.append(st.integers(-10, 10**6))
    if "number" in kinds:
        typed.append(st.floats(-10, 1e3, allow_nan=False))
    if "array" in kinds:
        typed.append(st.lists(st.integers(-2, 50), max_size=3))
    if "string" in kinds:
        typed.append(st.sampled_from(schema.get("enum", ["x", "", "cuda"])))
    if "enum" in schema:
        typed.append(st.sampled_from(schema["enum"]))
    return st.one_of(*typed, _junk()) if typed else _junk()


@st.composite
def tool_calls(draw, tools):
    tool = draw(st.sampled_from(tools))
    schema = tool.input_schema
    arguments = {}
    for name, prop in schema.get("properties", {}).items():
        if name in schema.get("required", []) or draw(st.booleans()):
            arguments[name] = draw(_value_for(name, prop))
    if draw(st.integers(0, 9)) == 0:
        arguments["not_an_argument"] = 1
    return tool.name, arguments


@pytest.fixture(scope="module")
def tools(portal_client):
    portal, client = portal_client
    listed = portal.call(client.list_tools).tools
    # Tools that start background runs would outlive an example; the runner tools cover the same arguments.
    return [t for t in listed if t.name not in {"start_training", "cancel_training"}]


@pytest.mark.slow
def test_fuzzed_arguments_never_break_the_protocol(portal_client, tools):
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(tool_calls(tools))
    def one_call(call):
        name, arguments = call
        result = call_raw(portal_client, name, arguments)
        if result.is_error and result.structured_content is None:
            text = result.content[0].text
            assert text.strip() != f"Error executing tool {name}", f"hidden crash for {arguments}"
            assert len(text) > len(f"Error executing tool {name}: ") + 10
        else:
            assert_envelope(result)

    one_call()
    assert_envelope(call_raw(portal_client, TOOL, hostile("none")))  # still healthy


@pytest.mark.slow
def test_the_server_never_imports_the_harness_or_torch(root):
    """A stdio server subprocess: the harness's import marker names a worker's pid, and the
    server's own memory maps hold no libtorch after a call."""
    server = RawStdioServer(root)
    try:
        server.initialize()
        request = server.send("tools/call", {"name": TOOL, "arguments": {"harness": "import_marker.py"}})
        response = server.read_response(request)
        assert response["result"]["structuredContent"]["status"] != "error", response
        importers = {int(pid) for pid in (root / "imported_by.pid").read_text().split()}
        assert importers and server.process.pid not in importers
        maps = open(f"/proc/{server.process.pid}/maps").read()
        assert "libtorch" not in maps and "torch/_C" not in maps
    finally:
        server.close()


@pytest.mark.slow
def test_numbers_json_cannot_hold_are_refused_by_the_schema(root):
    """1e999 is valid JSON that parses to Infinity and 10**20 is beyond every seeding function: each is a
    validation error naming the argument, not a worker failure blamed on the user's code."""
    server = RawStdioServer(root)
    try:
        server.initialize()
        lines = {
            "atol": '{"harness": "hostile.py", "function": "build_model", "cases": [{"expected": 1}], "atol": 1e999}',
            "seeds": '{"harness": "hostile.py", "seeds": [100000000000000000000]}',
        }
        for request_id, (name, arguments) in enumerate(lines.items(), start=100):
            tool = "check_known_values" if name == "atol" else "start_training"
            raw = (
                f'{{"jsonrpc": "2.0", "id": {request_id}, "method": "tools/call", '
                f'"params": {{"name": "{tool}", "arguments": {arguments}}}}}\n'
            )
            server.process.stdin.write(raw.encode())
            server.process.stdin.flush()
            result = server.read_response(request_id)["result"]
            assert result["isError"] and "structuredContent" not in result, result
            assert "validation error" in result["content"][0]["text"] and name in result["content"][0]["text"]
    finally:
        server.close()
