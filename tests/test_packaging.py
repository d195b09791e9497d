"""The package and the Claude Code plugin as a new user gets them (issue 19).

The wheel and sdist build, install into an empty venv without torch and start under `uvx`;
that server runs the worker in the project's own environment; the real `claude` CLI
validates the plugin, installs it from this repository as a marketplace and sees its server
Connected; the MCP Inspector lists the tools of the installed wheel. The checks that need
uv, npm or the network skip without them, except on CI, where every check must run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import TOOLS
from mcp import Client, StdioServerParameters
from test_stdio import INSPECTOR  # one pin for both Inspector checks

from implement_paper.server import interpreter
from implement_paper.server.cli import parse_args
from implement_paper.tools.runtime.runner import WorkerPool

REPO = Path(__file__).resolve().parent.parent
HARNESS = Path(__file__).parent / "harnesses" / "clean_mlp.py"
CLAUDE_CODE = "@anthropic-ai/claude-code@2.1.328"  # the version issue 19 was tried with
SKILL_COPY = REPO / "skills" / "implement-paper-from-scratch" / "SKILL.md"
# The test venv's bin first: scripts/test.sh runs its python without activating it.
PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _missing(what: str) -> None:
    """Skip this check, except on CI, where every packaging check must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed, and CI must run every packaging check")
    pytest.skip(f"{what} is not installed (set CI=1 to require it)")


def _tool(name: str) -> str:
    """The command's path (skipped when it is missing)."""
    found = shutil.which(name, path=PATH)
    if found is None:
        _missing(name)
    return found


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment with no active virtualenv or conda env: the server must find torch itself."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "IMPLEMENT_PAPER_PYTHON")}
    return {**env, "PATH": PATH, **extra}


def _venv(where: Path, with_torch: bool) -> Path:
    """A venv without pip; with_torch: it sees this interpreter's torch through a .pth file."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    if with_torch:
        _add_this_torch(python)
    return python


def _add_this_torch(python: Path) -> None:
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    torch_dir = Path(importlib.util.find_spec("torch").origin).parent.parent
    (Path(purelib) / "this_torch.pth").write_text(f"{torch_dir}\n")


# -- the plugin and the manifests agree with the package (fast, no network) -------------------


def test_the_plugin_skill_is_the_top_level_skill():
    assert SKILL_COPY.read_text() == (REPO / "SKILL.md").read_text(), (
        "SKILL.md is the source of the plugin's skill: run `cp SKILL.md skills/implement-paper-from-scratch/SKILL.md`"
    )


def test_manifests_agree_with_pyproject():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    plugin = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text())
    marketplace = json.loads((REPO / ".claude-plugin" / "marketplace.json").read_text())
    registry = json.loads((REPO / "server.json").read_text())
    package = registry["packages"][0]
    assert plugin["version"] == registry["version"] == package["version"] == project["version"]
    assert package["identifier"] == project["name"] and package["runtimeHint"] == "uvx"
    assert [entry["name"] for entry in marketplace["plugins"]] == [plugin["name"]]
    assert not any(requirement.startswith("torch") for requirement in project["dependencies"])
    assert project["optional-dependencies"]["torch"] == ["torch>=2.1"]
    server = plugin["mcpServers"]["implement-paper"]
    assert server["command"] == "uvx" and server["args"][:3] == ["--from", "${CLAUDE_PLUGIN_ROOT}", project["name"]]


def test_server_json_describes_the_command_line(tmp_path, monkeypatch):
    package = json.loads((REPO / "server.json").read_text())["packages"][0]
    values = {"--root": str(tmp_path), "--python": "/opt/env/bin/python"}
    for argument in package["packageArguments"]:
        parse_args([argument["name"], values[argument["name"]]])  # an unknown option exits
    assert [variable["name"] for variable in package["environmentVariables"]] == ["IMPLEMENT_PAPER_PYTHON"]
    monkeypatch.setenv("IMPLEMENT_PAPER_PYTHON", "/opt/env/bin/python")
    assert parse_args(["--root", str(tmp_path)]).python == "/opt/env/bin/python"
    monkeypatch.setenv("IMPLEMENT_PAPER_PYTHON", "")  # the plugin's unset option arrives empty
    assert parse_args(["--root", str(tmp_path)]).python is None


# -- which interpreter runs the worker (fast) -------------------------------------------------


def test_the_project_venv_with_torch_runs_the_worker(tmp_path, monkeypatch):
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    _venv(tmp_path / ".venv", with_torch=False)  # tried first, skipped
    python = _venv(tmp_path / "venv", with_torch=True)
    assert interpreter.find_worker_python(tmp_path) == str(python)
    assert interpreter.why_not(tmp_path / ".venv" / "bin" / "python") == "no torch and no numpy"


def test_a_probe_is_kept_until_the_environment_changes(tmp_path, monkeypatch):
    python = _venv(tmp_path / ".venv", with_torch=False)
    probes, run = [], subprocess.run

    def counted(command, **kwargs):
        probes.extend([command] if interpreter.PROBE in command else [])
        return run(command, **kwargs)

    monkeypatch.setattr(subprocess, "run", counted)
    assert interpreter.why_not(python) == "no torch and no numpy"
    assert interpreter.why_not(python) == "no torch and no numpy"
    assert len(probes) == 1  # the second answer came without starting the interpreter again
    _add_this_torch(python)  # installing a package changes site-packages: asked again, found
    assert interpreter.why_not(python) is None and len(probes) == 2


@pytest.mark.anyio
async def test_the_interpreter_search_runs_off_the_event_loop(tmp_path):
    searched_in = []

    def search() -> str:
        searched_in.append(threading.current_thread())
        return sys.executable

    async with WorkerPool(python=search, root=tmp_path, warm=True):
        pass
    assert searched_in and threading.main_thread() not in searched_in


def test_no_interpreter_with_torch_names_each_one_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "active"))
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    _venv(tmp_path / ".venv", with_torch=True)
    monkeypatch.setattr(interpreter, "WORKER_MODULES", ("torch", "a_module_nobody_has"))
    with pytest.raises(interpreter.WorkerStartError) as raised:
        interpreter.find_worker_python(tmp_path)
    message = str(raised.value)
    assert f"{tmp_path / '.venv' / 'bin' / 'python'} (the project's .venv: no a_module_nobody_has)" in message
    assert f"{tmp_path / 'venv' / 'bin' / 'python'} (the project's venv: not there)" in message
    assert f"{tmp_path / 'active' / 'bin' / 'python'} ($VIRTUAL_ENV: not there)" in message
    assert f"{sys.executable} (the server's own: no a_module_nobody_has)" in message
    assert "--python" in message and "torch-backend cpu" in message


# -- the built distributions (need the build backend from the package index) ------------------


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """`python -m build`: the sdist, then the wheel built from it."""
    if importlib.util.find_spec("build") is None:
        _missing("the build module (pip install build)")
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)])
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


@pytest.mark.slow
def test_the_wheel_holds_the_prompts_and_requires_no_torch(dist):
    import zipfile

    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    prompts = {p.name for p in (REPO / "prompts").glob("*.md")}
    assert prompts and {f"implement_paper/prompts/{name}" for name in prompts} <= names
    assert "implement_paper/tools/worker/zygote.py" in names and "implement_paper/server/interpreter.py" in names
    requirements = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: torch")]
    assert requirements == ['Requires-Dist: torch>=2.1; extra == "torch"']


def _install(distribution: Path, where: Path) -> Path:
    """A fresh, empty venv with `distribution` installed; its bin folder."""
    uv = _tool("uv")
    _run([uv, "venv", "--quiet", str(where)], env=_clean_env())
    _run(
        [uv, "pip", "install", "--quiet", "--python", str(where / "bin" / "python"), str(distribution)],
        env=_clean_env(),
    )
    return where / "bin"


@pytest.fixture(scope="module")
def installed_wheel(dist, tmp_path_factory) -> Path:
    return _install(dist["wheel"], tmp_path_factory.mktemp("wheel") / "env")


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
@pytest.mark.slow
def test_each_distribution_installs_into_an_empty_venv_and_runs_without_torch(request, dist, kind, tmp_path):
    bin_dir = (
        request.getfixturevalue("installed_wheel") if kind == "wheel" else _install(dist["sdist"], tmp_path / "env")
    )
    assert "--python PYTHON" in _run([str(bin_dir / "implement-paper-mcp"), "--help"], env=_clean_env()).stdout
    no_torch = "import implement_paper.server.app, importlib.util as u, sys; sys.exit(u.find_spec('torch') is not None)"
    _run([str(bin_dir / "python"), "-c", no_torch])


@pytest.mark.slow
def test_uvx_starts_the_wheel(dist):
    done = _run([_tool("uvx"), "--from", str(dist["wheel"]), "implement-paper-mcp", "--help"], env=_clean_env())
    assert "--python PYTHON" in done.stdout


@pytest.mark.anyio
@pytest.mark.slow
async def test_the_uvx_server_runs_the_worker_in_the_project_env_made_after_it_started(dist, tmp_path):
    """No torch beside the server: the first call says where it looked; once the project has a
    .venv with torch, the next call runs there, without a restart."""
    uvx = _tool("uvx")
    shutil.copy(HARNESS, tmp_path)
    (tmp_path / "which_python.py").write_text(
        "import sys\nprint('worker python:', sys.executable)\nfrom clean_mlp import *  # noqa: F403\n"
    )
    server = StdioServerParameters(
        command=uvx,
        args=["--from", str(dist["wheel"]), "implement-paper-mcp", "--root", str(tmp_path)],
        env=_clean_env(),
    )
    async with Client(server) as client:
        first = (await client.call_tool("inspect_model", {"harness": "which_python.py"})).structured_content
        failed = next(f for f in first["findings"] if f["code"] == "worker_start_failed")
        assert f"{tmp_path / '.venv' / 'bin' / 'python'} (the project's .venv: not there)" in failed["message"]
        assert "(the server's own: no torch)" in failed["message"]
        python = _venv(tmp_path / ".venv", with_torch=True)
        second = (await client.call_tool("inspect_model", {"harness": "which_python.py"})).structured_content
    assert second["status"] == "pass", second["summary"]
    assert f"worker python: {python}" in second["run"]["stdout_tail"]


@pytest.mark.slow
def test_the_mcp_inspector_lists_the_tools_of_the_installed_wheel(installed_wheel, tmp_path):
    server = [str(installed_wheel / "implement-paper-mcp"), "--root", str(tmp_path)]
    done = _run([_tool("npx"), "-y", INSPECTOR, "--cli", *server, "--method", "tools/list"], env=_clean_env())
    assert {tool["name"] for tool in json.loads(done.stdout)["tools"]} == {tool.name for tool in TOOLS}


# -- the real Claude Code CLI, with a temporary HOME -------------------------------------------


@pytest.fixture(scope="module")
def claude() -> str:
    """The `claude` binary of the pinned npm package, installed once per machine."""
    npm = _tool("npm")
    prefix = Path.home() / ".cache" / "implement-paper-mcp" / CLAUDE_CODE.replace("/", "+")
    binary = prefix / "node_modules" / ".bin" / "claude"
    if not binary.exists():
        _run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), CLAUDE_CODE])
    return str(binary)


def _claude(claude: str, home: Path, *args: str, cwd: Path = REPO) -> str:
    env = _clean_env(HOME=str(home), DISABLE_AUTOUPDATER="1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1")
    return _run([claude, *args], env=env, cwd=cwd).stdout


@pytest.mark.parametrize("target", [".", ".claude-plugin/plugin.json"])
def test_claude_plugin_validate_passes_strictly(claude, tmp_path, target):
    out = _claude(claude, tmp_path, "plugin", "validate", "--strict", target)
    assert "implement-paper:implement-paper-from-scratch" in out and "mcpServers: implement-paper stdio uvx" in out


@pytest.mark.slow
def test_plugin_install_gives_the_skill_and_a_connected_server(claude, tmp_path):
    _tool("uvx")  # the plugin's server command
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    _claude(claude, home, "plugin", "marketplace", "add", str(REPO))
    _claude(claude, home, "plugin", "install", "implement-paper@implement-paper-mcp")
    assert "implement-paper-from-scratch" in _claude(
        claude, home, "plugin", "details", "implement-paper@implement-paper-mcp"
    )
    listed = _claude(claude, home, "mcp", "list", cwd=project)
    line = next(line for line in listed.splitlines() if line.startswith("plugin:implement-paper:implement-paper:"))
    assert f"--root {project}" in line and "Connected" in line, listed


@pytest.mark.slow
def test_claude_mcp_add_of_the_wheel_under_uvx_connects(claude, dist, tmp_path):
    uvx = _tool("uvx")
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    _claude(
        claude,
        home,
        "mcp",
        "add",
        "implement-paper",
        "--",
        uvx,
        "--from",
        str(dist["wheel"]),
        "implement-paper-mcp",
        "--root",
        str(project),
        cwd=project,
    )
    listed = _claude(claude, home, "mcp", "list", cwd=project)
    assert any(line.startswith("implement-paper:") and "Connected" in line for line in listed.splitlines()), listed
