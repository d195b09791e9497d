"""Nothing outside the project root runs as project code (issue 13, item 8): the harness
path is checked again in the worker as it is opened (a file swapped for a symlink while its
call waits in the queue is refused), and a project module imported through a symlink that
leads out of the root is refused; installed packages and links inside the root are fine."""

import shutil

import anyio
import pytest
from conftest import call, connect
from reliability_support import CLEAN_MLP, TOOL, assert_ran, finding_codes, hostile, make_root, wait_for_pids

pytestmark = pytest.mark.anyio

# Runs only if it is imported: the marker says the guard let it through.
OUTSIDE = "open('OUTSIDE_CODE_RAN', 'w').close()\n" + CLEAN_MLP.read_text()


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = make_root(tmp_path_factory)
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir()
    (outside / "harness_out.py").write_text(OUTSIDE)
    (outside / "sibling_out.py").write_text(OUTSIDE)
    (root / "sibling_out.py").symlink_to(outside / "sibling_out.py")
    (root / "uses_outside_sibling.py").write_text("from sibling_out import build_model, get_batch  # noqa: F401\n")
    shutil.copy(CLEAN_MLP, root / "inside_target.py")
    (root / "sibling_in.py").symlink_to(root / "inside_target.py")
    (root / "uses_inside_sibling.py").write_text("from sibling_in import build_model, get_batch  # noqa: F401\n")
    return root


@pytest.fixture(scope="module")
async def client(root):
    async with connect(root, timeout_s=60, max_workers=1) as client:
        yield client


def assert_refused(result, root, words):
    assert finding_codes(result) == ["harness_error"], result["summary"]
    assert words in result["findings"][0]["message"] and "outside the project root" in result["findings"][0]["message"]
    assert not (root / "OUTSIDE_CODE_RAN").exists()


@pytest.mark.slow
async def test_a_harness_swapped_for_a_symlink_while_queued_is_refused(client, root):
    swapped = root / "swapped.py"
    shutil.copy(CLEAN_MLP, swapped)
    results, queued = {}, anyio.Event()

    async def run(name, arguments):
        results[name] = await call(client, TOOL, arguments)

    async def on_progress(done, total, message):
        if (message or "").startswith("queued:"):  # the server checked the path and waits for the worker
            queued.set()

    async def run_swapped():
        result = await client.call_tool(TOOL, {"harness": "swapped.py"}, progress_callback=on_progress)
        results["swapped"] = result.structured_content

    async with anyio.create_task_group() as tg:
        tg.start_soon(run, "slow", hostile("slow"))  # holds the only worker for 2 s
        await wait_for_pids(root, 1)
        tg.start_soon(run_swapped)
        with anyio.fail_after(30):
            await queued.wait()
        swapped.unlink()
        swapped.symlink_to(root.parent / f"{root.name}-outside" / "harness_out.py")
    assert_ran(results["slow"])
    assert_refused(results["swapped"], root, "refused to run the harness")


async def test_a_sibling_module_linked_from_outside_the_root_is_refused(client, root):
    assert_refused(await call(client, TOOL, {"harness": "uses_outside_sibling.py"}), root, "module 'sibling_out'")


async def test_links_inside_the_root_and_installed_packages_import_as_before(client):
    assert_ran(await call(client, TOOL, {"harness": "uses_inside_sibling.py"}))


async def test_a_symlinked_site_packages_folder_is_not_a_free_pass(client, root):
    outside = root.parent / f"{root.name}-outside"
    (outside / "sp_mod.py").write_text(OUTSIDE)
    (root / "site-packages").symlink_to(outside, target_is_directory=True)
    (root / "uses_linked_site_packages.py").write_text(
        "import os, sys\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), 'site-packages'))\n"
        "from sp_mod import build_model, get_batch  # noqa: F401\n"
    )
    assert_refused(await call(client, TOOL, {"harness": "uses_linked_site_packages.py"}), root, "module 'sp_mod'")


async def test_a_symlinked_pycache_is_refused(client, root):
    cache = root.parent / f"{root.name}-cache"
    cache.mkdir()
    (root / "cachepkg").mkdir()
    shutil.copy(CLEAN_MLP, root / "cachepkg" / "__init__.py")
    (root / "cachepkg" / "__pycache__").symlink_to(cache, target_is_directory=True)  # bytecode from elsewhere
    (root / "uses_linked_cache.py").write_text("from cachepkg import build_model, get_batch  # noqa: F401\n")
    result = await call(client, TOOL, {"harness": "uses_linked_cache.py"})
    assert finding_codes(result) == ["harness_error"] and "module 'cachepkg'" in result["findings"][0]["message"]
