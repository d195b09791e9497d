"""The thread budget (issue 27): run.threads is what torch used when the check ended (a harness
that sets its own count included), a pinned --threads-per-worker is kept through training, and
without a pin a job never takes more threads than its ceiling (the cores shared among workers)."""

import os

import pytest
from conftest import call, connect
from reliability_support import TOOL, hostile, make_root

from implement_paper.tools.runtime.runner import WorkerPool
from implement_paper.tools.worker.threads import idle_cores, usable_cores

pytestmark = pytest.mark.anyio

OVERFIT = {"harness": "clean_mlp.py", "sizes": [8], "steps": 30}  # trains: the thread trial would run here


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_root(tmp_path_factory)


@pytest.mark.slow
async def test_run_threads_is_what_the_check_used_and_a_pin_is_kept(root):
    async with connect(root, threads_per_worker=2) as client:
        own = await call(client, TOOL, hostile("one_thread"))
        assert own["run"]["threads"] == 1  # the harness set 1: the old report said the 2 it was given
        pinned = await call(client, "run_overfit_test", OVERFIT)
        assert pinned["run"]["threads"] == 2  # pinned: not traded for one thread however small the model


@pytest.mark.slow
async def test_without_a_pin_a_job_stays_within_its_ceiling(root, tmp_path):
    ceiling = WorkerPool(root=tmp_path, max_workers=1).threads_per_job()
    async with connect(root, max_workers=1) as client:
        for arguments in (hostile("none"), OVERFIT):
            result = await call(client, TOOL if arguments is not OVERFIT else "run_overfit_test", arguments)
            assert 1 <= result["run"]["threads"] <= ceiling


def test_the_machine_readings_stay_within_the_cores_we_may_use():
    cores = len(os.sched_getaffinity(0))
    assert 1 <= usable_cores() <= cores
    assert 0 <= idle_cores() <= cores
