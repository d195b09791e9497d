"""Hostile user code (issue 5): every misbehaviour becomes a finding, nothing outlives the
call, and the server answers the next call as if nothing happened.

The harness is tests/reliability/harnesses/hostile.py; `build_model(action=...)` picks the
misbehaviour. One server (max_workers=2, a 600 MB cap) serves the whole module, so a
hostile call that damaged it would fail every later test.
"""

import os
import resource

import anyio
import pytest
from conftest import call, connect
from reliability_support import (
    MEMORY_LIMIT_MB,
    TOOL,
    assert_ran,
    finding_codes,
    group_or_session_members,
    hostile,
    make_root,
    take_pids,
    wait_dead,
    wait_for_pids,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_root(tmp_path_factory)


@pytest.fixture(scope="module")
async def client(root):
    async with connect(root, timeout_s=60, memory_limit_mb=MEMORY_LIMIT_MB, max_workers=2) as client:
        yield client


async def run_then_recover(client, action, **extra):
    """Call the hostile action, then prove the server still works with a plain call."""
    result = await call(client, TOOL, hostile(action, **extra))
    assert_ran(await call(client, TOOL, hostile("none")))
    return result


@pytest.mark.parametrize("action", ["busy_loop", "c_pause_signals_blocked", "c_sleep", "torch_loop", "spawn_and_hang"])
@pytest.mark.slow
async def test_endless_code_times_out_and_its_tree_is_killed(client, root, action):
    take_pids(root)
    result = await run_then_recover(client, action, timeout_s=2)
    assert result["status"] == "error" and finding_codes(result) == ["timeout"], result["summary"]
    # Not before its timeout (how soon after it is a latency: benchmarks/reliability_soak.py measures kills).
    assert result["run"]["duration_s"] >= 2 and "timeout_s=2" in result["findings"][0]["message"]
    for pid in take_pids(root):  # spawn_and_hang records its own pid and its child's
        assert not group_or_session_members(pid), f"processes of job {pid} survived the timeout"


@pytest.mark.parametrize(
    "action, signal_name", [("abort", "SIGABRT"), ("segfault", "SIGSEGV"), ("sigterm_self", "SIGTERM")]
)
async def test_a_crash_names_its_signal(client, action, signal_name):
    result = await run_then_recover(client, action)
    assert finding_codes(result) == ["crashed"]
    assert signal_name in result["findings"][0]["message"]


@pytest.mark.parametrize("action", ["memory_hog", "memory_hog_in_children"])
@pytest.mark.slow
async def test_memory_cap_covers_the_whole_process_tree(client, root, action):
    # memory_hog_in_children: two children of 512 MB each, each under the 600 MB cap alone:
    # only a cap on the sum over the job's process group catches them.
    result = await run_then_recover(client, action, timeout_s=30)
    assert finding_codes(result) == ["out_of_memory"], result["summary"]
    assert result["findings"][0]["evidence"]["limit_mb"] == MEMORY_LIMIT_MB
    await wait_dead(take_pids(root))


async def test_forked_and_spawned_children_do_not_survive_the_call(client, root):
    take_pids(root)
    result = await call(client, TOOL, hostile("fork_and_spawn"))
    assert_ran(result)
    pids = take_pids(root)
    assert len(pids) == 3
    await wait_dead(pids)


async def test_a_daemon_that_leaves_the_group_and_session_is_killed_too(client, root):
    take_pids(root)
    assert_ran(await call(client, TOOL, hostile("escape_session")))
    [daemon] = take_pids(root)
    await wait_dead([daemon])  # the zygote, its subreaper, kills it once orphaned


@pytest.mark.slow
async def test_sigterm_in_one_job_leaves_a_concurrent_job_alone(client, root):
    """A job inherits the zygote's bookkeeping; its SIGTERM must not kill other jobs."""
    take_pids(root)
    async with anyio.create_task_group() as tg:
        results = {}

        async def run(action):
            results[action] = await call(client, TOOL, hostile(action))

        tg.start_soon(run, "slow")
        await wait_for_pids(root, 1)
        tg.start_soon(run, "sigterm_self")
    assert finding_codes(results["sigterm_self"]) == ["crashed"]
    assert_ran(results["slow"])


async def test_megabytes_of_output_are_trimmed_and_the_protocol_survives(client):
    result = await run_then_recover(client, "flood_output")
    assert_ran(result)
    run = result["run"]
    for tail, last in ((run["stdout_tail"], "LAST STDOUT LINE"), (run["stderr_tail"], "LAST STDERR LINE")):
        assert len(tail) < 3000 and tail.rstrip().endswith(last)
        assert "bytes in all" in tail  # says how much there was


@pytest.mark.parametrize("action, code", [("exit_code", "user_code_error"), ("hard_exit", "crashed")])
async def test_exiting_user_code_is_reported(client, action, code):
    result = await run_then_recover(client, action)
    assert finding_codes(result) == [code]
    assert ("sys.exit(3)" if action == "exit_code" else "code 7") in result["findings"][0]["message"]


@pytest.mark.skipif(
    resource.getrlimit(resource.RLIMIT_NOFILE)[0] <= 1024, reason="fd limit too low to keep the result pipe above 1023"
)
async def test_closing_and_redirecting_fds_does_not_cut_the_answer(client):
    assert_ran(await run_then_recover(client, "close_fds"))


async def test_cwd_and_environment_changes_do_not_leak_into_the_next_call(client, root):
    assert_ran(await call(client, TOOL, hostile("change_cwd_and_env")))
    result = await call(client, TOOL, hostile("report_environment"))
    assert f"cwd={root} poisoned=False" in result["run"]["stdout_tail"]
    assert os.getcwd() != "/"


async def test_reading_stdin_gets_eof_instead_of_blocking(client):
    result = await run_then_recover(client, "read_stdin", timeout_s=10)
    assert "stdin gave 0 bytes" in result["run"]["stdout_tail"]
