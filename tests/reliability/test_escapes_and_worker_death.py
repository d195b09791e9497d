"""Processes that leave their job, and a zygote that dies (issue 13, items 5 and 7).

Each test runs twice: with a cgroup per job (where this machine allows one) and with
IMPLEMENT_PAPER_CGROUPS=0, where the zygote's subreaper sweep is all there is.
"""

import os
import signal

import anyio
import pytest
from conftest import call, connect
from reliability_support import (
    TOOL,
    alive,
    assert_ran,
    children_of,
    finding_codes,
    hostile,
    make_root,
    take_pids,
    wait_dead,
    wait_for_pids,
)

from implement_paper.tools.worker import cgroups

pytestmark = pytest.mark.anyio

CHAIN = 40  # escapees in one chain: a 2 s sweep that kills what it sees every 0.1 s leaves ~20 alive


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_root(tmp_path_factory)


@pytest.fixture(scope="module", params=["cgroups", "sweep only"])
def mechanism(request):
    """The environment the zygotes start in (a zygote restarted mid-test reads it again)."""
    saved = os.environ.get("IMPLEMENT_PAPER_CGROUPS")
    os.environ["IMPLEMENT_PAPER_CGROUPS"] = "1" if request.param == "cgroups" else "0"
    yield request.param
    if saved is None:
        del os.environ["IMPLEMENT_PAPER_CGROUPS"]
    else:
        os.environ["IMPLEMENT_PAPER_CGROUPS"] = saved


@pytest.fixture(scope="module")
async def client(root, mechanism):
    async with connect(root, timeout_s=60) as client:
        yield client


def chain(hang: bool = False):
    return {"harness": "hostile.py", "model_kwargs": {"action": "setsid_chain", "n": CHAIN, "hang": hang}}


@pytest.mark.slow
async def test_a_chain_of_setsid_escapees_dies_with_its_call(client, root, mechanism):
    take_pids(root)
    assert_ran(await call(client, TOOL, chain()))
    pids = take_pids(root)
    assert len(pids) == CHAIN
    latency = await wait_dead(pids)
    print(f"{mechanism}: {CHAIN} escapees dead {1000 * latency:.0f} ms after the call returned")


@pytest.mark.slow
async def test_a_chain_of_escapees_dies_when_the_server_stops(root, mechanism):
    take_pids(root)
    async with connect(root, timeout_s=60) as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, TOOL, chain(hang=True))
            pids = await wait_for_pids(root, CHAIN + 1)  # the chain, then the job itself
            zygote = _parent_of(pids[-1])
            tg.cancel_scope.cancel()
    # The server has stopped (the client's context closed it): nothing of the job survives,
    # and the zygote removed the cgroups it made.
    await wait_dead(pids)
    assert not cgroups.made_by(zygote)


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


@pytest.mark.slow
async def test_a_killed_zygote_takes_its_jobs_along_and_is_not_blamed_on_the_user(client, root):
    take_pids(root)
    async with anyio.create_task_group() as tg:
        results = []

        async def hang():
            results.append(await call(client, TOOL, hostile("spawn_and_hang")))

        tg.start_soon(hang)
        job, sleeper = await wait_for_pids(root, 2)
        zygote = _parent_of(job)
        os.kill(zygote, signal.SIGKILL)
    [result] = results
    await wait_dead([job, sleeper])  # not re-parented to init and left running
    assert not alive(zygote)
    with anyio.fail_after(3):  # the server removes the cgroups the dead zygote made
        while cgroups.made_by(zygote):
            await anyio.sleep(0.05)
    assert finding_codes(result) == ["internal_error"], result["summary"]
    message = result["findings"][0]["message"]
    assert "zygote" in message and "SIGKILL" in message and "not a fault of your code" in message
    assert "os._exit" not in message  # the old answer blamed the user's code
    assert_ran(await call(client, TOOL, hostile("none")))  # a fresh zygote serves the next call


@pytest.mark.slow
async def test_the_next_call_s_process_killed_from_outside_is_replaced(client, root):
    # The zygote forks each call's process one call ahead (it settles into its cgroup meanwhile).
    take_pids(root)
    assert_ran(await call(client, TOOL, hostile("record_parent")))
    [zygote] = take_pids(root)
    [spare] = children_of(zygote)
    os.kill(spare, signal.SIGKILL)  # say, a `pkill python` in the user's shell
    await wait_dead([spare])
    assert_ran(await call(client, TOOL, hostile("none")))
    assert len(children_of(zygote)) == 1  # a new spare waits for the next call
