"""The documentation stands on its own: a short README, docs/ behind it, and nothing outside the repository.

The README is the front door (what the server is, the two commands, adding it to a client, a session, links);
the reference lives in docs/ and each tool's page in its own folder (tools/<tool>/README.md). Every relative
link in them must lead to a file (and heading) that exists, and no tracked file may name a path outside the
repository: the contract is docs/harness-contract.md and docs/results.md, not a design note somewhere else on
one machine.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "tools").glob("*/README.md"))]
README_MAX_LINES = 250
# Paths that exist only on some machine: a sibling checkout's shared notes, a workspace, a home folder.
OUTSIDE = re.compile(r"\.\./shared\b|\bshared/(?:design|seed)/|(?<![\w.-])/(?:work|root)/|/(?:home|Users)/[A-Za-z]")
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def tracked_text_files() -> list[Path]:
    """Every file git tracks that reads as UTF-8 text."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    files = []
    for name in filter(None, names.decode().split("\0")):
        path = ROOT / name
        try:
            path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        files.append(path)
    return files


def anchors(page: Path) -> set[str]:
    """GitHub's anchor for each heading of a Markdown page (code blocks left out)."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    headings = re.findall(r"^#+ (.*)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def broken_links(page: Path) -> list[str]:
    """The relative links of a page whose file, or heading, does not exist."""
    broken = []
    for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):  # https:, mailto:: outside the repository by design
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or ROOT not in (linked, *linked.parents):
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    return broken


def test_no_tracked_file_names_a_path_outside_the_repository():
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in tracked_text_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offending, "name the repository's own page instead:\n" + "\n".join(offending)


def test_the_readme_is_a_short_front_door():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move reference text to docs/"


def test_the_readme_opens_with_the_two_commands():
    """The first code block is what a newcomer runs: the demo, then the tests (.ci/run runs the second)."""
    first_block = re.search(r"^```\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.M | re.S)
    assert first_block and first_block.group(1).splitlines() == ["bash scripts/demo.sh", "bash scripts/test.sh"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert not broken_links(page), f"{page.relative_to(ROOT)}: broken links {broken_links(page)}"


def test_every_docs_page_is_reachable_from_the_readme():
    """Each page of docs/ and each tool's page is linked from the README or from a page the README leads to."""
    seen, todo = set(), [ROOT / "README.md"]
    while todo:
        page = todo.pop()
        for target in LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
            linked = (page.parent / target.partition("#")[0]).resolve()
            if linked.suffix == ".md" and linked.exists() and linked not in seen:
                seen.add(linked)
                todo.append(linked)
    assert not set(PAGES[1:]) - seen, f"pages no link leads to: {sorted(set(PAGES[1:]) - seen)}"
