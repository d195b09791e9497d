"""The server reads and writes its own files only inside <root>/.implement-paper/: a path read from a
run record is never followed out of it (a record may come with a clone or from the user's code), and
a symlinked .implement-paper/ or runs/ is refused instead of receiving records, plots and reports."""

import base64
import json
import secrets
from pathlib import Path

import pytest
from conftest import codes, connect, finding_of
from test_run_records import project, record

pytestmark = pytest.mark.anyio
RUN_ID = "20200101-000000-aaaaaa"


def secret_file(tmp_path: Path) -> tuple[Path, bytes]:
    """A file outside the root whose bytes must never reach the client (think /proc/self/environ)."""
    secret = f"TOKEN={secrets.token_hex(16)}".encode()
    path = tmp_path / "outside" / "environ"
    path.parent.mkdir()
    path.write_bytes(secret)
    return path, secret


async def status_with_images(root: Path) -> tuple[dict, list[bytes]]:
    async with connect(root) as client:
        result = await client.call_tool("training_status", {"run_id": RUN_ID})
    images = [base64.b64decode(item.data) for item in result.content if item.type == "image"]
    return result.structured_content, images


@pytest.mark.slow
async def test_a_record_naming_a_file_outside_the_root_is_reported_not_read(tmp_path):
    root = project(tmp_path)
    secret_path, secret = secret_file(tmp_path)
    runs = root / ".implement-paper" / "runs"
    runs.mkdir(parents=True)
    (runs / f"{RUN_ID}.json").write_text(json.dumps(record(RUN_ID, plot=str(secret_path), events="/etc")))
    result, images = await status_with_images(root)
    assert not any(secret in image for image in images) and images == []
    assert result["status"] == "warn" and "unsafe_record_path" in codes(result, "warning")
    assert result["details"]["plot"] is None and result["details"]["events"] is None
    assert str(secret_path) in finding_of(result, "unsafe_record_path")["message"]


@pytest.mark.slow
async def test_a_plot_that_is_a_symlink_out_of_the_root_is_reported_not_read(tmp_path):
    root = project(tmp_path)
    secret_path, secret = secret_file(tmp_path)
    runs = root / ".implement-paper" / "runs"
    runs.mkdir(parents=True)
    own_plot = f".implement-paper/runs/{RUN_ID}.png"
    (runs / f"{RUN_ID}.json").write_text(json.dumps(record(RUN_ID, plot=own_plot)))
    (runs / f"{RUN_ID}.png").symlink_to(secret_path)
    result, images = await status_with_images(root)
    assert images == [] and result["status"] == "warn"
    assert finding_of(result, "unsafe_record_path")["where"] == own_plot


@pytest.mark.parametrize("linked", [".implement-paper", ".implement-paper/runs"])
@pytest.mark.slow
async def test_a_symlinked_output_folder_is_refused(tmp_path, linked):
    root = project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / linked).parent.mkdir(parents=True, exist_ok=True)
    (root / linked).symlink_to(elsewhere, target_is_directory=True)
    async with connect(root) as client:
        result = await client.call_tool("start_training", {"harness": "train_clean.py", "steps": 5})
        assert result.is_error and "is a symlink" in result.structured_content["summary"]
        compared = await client.call_tool(
            "compare_metrics", {"reported": {"accuracy": 90}, "measured": {"accuracy": 89}}
        )
        # its plot goes to .implement-paper/plots/: refused only when .implement-paper/ itself is the link
        assert compared.is_error == (linked == ".implement-paper")
    assert list(elsewhere.rglob("*")) == []  # no record, lock, plot or report landed outside the root
