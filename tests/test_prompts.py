"""The phase guides: prompts and guide:// resources over MCP, their text, and SKILL.md."""

import importlib.util
import json
import math
import re
from pathlib import Path

import pytest
from conftest import TOOLS
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError

from implement_paper.prompts import CATALOG, register_prompts
from implement_paper.prompts.catalog import MECHANISMS, PAPER_TYPES, read_markdown, render, split_sections, tips_section
from implement_paper.tools.wire.findings import CODES
from implement_paper.tools.worker.harness import OPTIONAL, REQUIRED

ROOT = Path(__file__).resolve().parents[1]

# The tool surface, from the code: tool -> the arguments an example call may use.
TOOL_ARGS = {tool.name: set(tool.args.model_fields) for tool in TOOLS}
# Codes the guides name that parallel branches of issues 25 and 26 add; once a branch is merged its codes are in
# CODES and drop out of this set, so the check below holds them to the code list again.
FINDING_CODES = set(CODES)
# batch_roles is read by check_dependencies alone (tools/check_dependencies/roles.py), not by the harness loader.
HARNESS_NAMES = set(REQUIRED + OPTIONAL) | {"batch_roles"}
# Other snake_case names the guides legitimately put in backticks (code the user writes).
OTHER_NAMES = {
    "my_custom_op",
    "log_prob",
    "log_softmax",
    "register_buffer",
    "use_component",
    "test_acc",
    "val_loss",
    "test_loss",
    "n_layers",
    "kl_weight",
    "use_attention",
    "no_dropout",
    "label_smoothing",
    "discounted_returns",
    "load_state_dict",
}

SAMPLE_ARGS = {
    "paper": "Attention Is All You Need (arXiv:1706.03762)",
    "paper_type": "transformer",
    "notes": "reproduce the base model on a small corpus",
    "component": "multi-head attention",
    "symptom": "loss flat",
    "stage": "debugging",
    "goal": "causal self-attention without future leakage",
}
EXPECTED_PROMPTS = {
    "implement_paper": {"paper": True, "paper_type": False, "notes": False},
    "pre_implementation_analysis": {"paper": True, "notes": False},
    "scaffold_data": {"component": False, "paper": False},
    "scaffold_model": {"component": False, "paper": False},
    "scaffold_loss": {"component": False, "paper": False},
    "scaffold_training_loop": {"component": False, "paper": False},
    "scaffold_evaluation": {"component": False, "paper": False},
    "debugging_gauntlet": {"symptom": False},
    "checkpoint_questions": {"component": True, "stage": False},
    "paper_type_tips": {"paper_type": True},
    "session_report": {"goal": False, "component": False},
    "harness_guide": {},
}
# The tool each scaffold step must send the agent to.
STEP_TOOLS = {
    "scaffold_data": ["inspect_data"],
    "scaffold_model": ["inspect_model", "check_initialization"],
    "scaffold_loss": ["check_initialization", "gradient_check", '"numerical"', "check_known_values"],
    "scaffold_training_loop": ["run_overfit_test", "lr_sweep"],
    "scaffold_evaluation": ["start_training", "training_status", "compare_metrics"],
    "debugging_gauntlet": [
        "run_overfit_test",
        "gradient_check",
        "check_known_values",
        "check_initialization",
        "lr_sweep",
        "check_dependencies",
        "run_ablation",
        "start_training",
    ],
}
LEFTOVER = re.compile(r"\$\{?[A-Za-z_]")


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def server():
    server = MCPServer("test")
    register_prompts(server)
    return server


def sample_args(name):
    return {a.name: SAMPLE_ARGS[a.name] for a in CATALOG[name].arguments}


def text_of(result):
    assert len(result.messages) == 1
    return result.messages[0].content.text


def all_texts():
    """Every guide and SKILL.md, as (label, text)."""
    texts = [(f"{name}.md", read_markdown(name)) for name in CATALOG]
    return texts + [("SKILL.md", (ROOT / "SKILL.md").read_text(encoding="utf-8"))]


# --- over MCP -----------------------------------------------------------------


@pytest.mark.anyio
async def test_prompts_are_listed_with_their_arguments(server):
    async with Client(server) as client:
        listed = (await client.list_prompts()).prompts
    assert {p.name: {a.name: a.required for a in p.arguments} for p in listed} == EXPECTED_PROMPTS
    for prompt in listed:
        assert prompt.title and prompt.description
        assert all(a.description for a in prompt.arguments)


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(EXPECTED_PROMPTS))
async def test_every_prompt_renders_without_leftover_placeholders(server, name):
    async with Client(server) as client:
        full = text_of(await client.get_prompt(name, sample_args(name)))
        required_only = {a.name: SAMPLE_ARGS[a.name] for a in CATALOG[name].arguments if a.required}
        minimal = text_of(await client.get_prompt(name, required_only))
    for text in (full, minimal):
        assert not LEFTOVER.search(text), LEFTOVER.search(text)
        assert any(tool in text for tool in TOOL_ARGS), "every guide names at least one tool"
    for value in sample_args(name).values():
        if value not in ("transformer", "debugging"):  # choices are shown as section headings instead
            assert value in full
    for tool in STEP_TOOLS.get(name, []):
        assert tool in minimal  # the gauntlet without a symptom: the whole text


@pytest.mark.anyio
async def test_missing_optional_arguments_read_as_phrases(server):
    async with Client(server) as client:
        text = text_of(await client.get_prompt("scaffold_model", {}))
    assert "**Component:** the component you are building now" in text


@pytest.mark.anyio
@pytest.mark.parametrize("prompt", ["paper_type_tips", "implement_paper"])
async def test_bad_paper_type_is_refused_with_the_valid_values(server, prompt):
    args = {"paper": "x", "paper_type": "cnn"} if prompt == "implement_paper" else {"paper_type": "cnn"}
    async with Client(server) as client:
        with pytest.raises(MCPError) as err:
            await client.get_prompt(prompt, args)
    message = str(err.value)
    assert "'cnn'" in message
    for valid in PAPER_TYPES:
        assert valid in message


@pytest.mark.anyio
async def test_unknown_argument_and_bad_stage_are_refused(server):
    async with Client(server) as client:
        with pytest.raises(MCPError, match="unknown argument.*type.*takes: paper_type"):
            await client.get_prompt("paper_type_tips", {"paper_type": "rl", "type": "rl"})
        with pytest.raises(MCPError, match="valid values: understanding, implementation, debugging"):
            await client.get_prompt("checkpoint_questions", {"component": "x", "stage": "testing"})


@pytest.mark.anyio
async def test_resources_list_and_read(server):
    async with Client(server) as client:
        listed = (await client.list_resources()).resources
        assert {str(r.uri) for r in listed} == {f"guide://{name}" for name in EXPECTED_PROMPTS}
        assert {r.mime_type for r in listed} == {"text/markdown"}
        for resource in listed:
            contents = (await client.read_resource(str(resource.uri))).contents
            assert len(contents) == 1 and contents[0].text.startswith("# ")
            assert not LEFTOVER.search(contents[0].text)
        tips = (await client.read_resource("guide://paper_type_tips")).contents[0].text
    for paper_type in PAPER_TYPES:
        assert f"## Type: {paper_type}" in tips
    assert f"## {MECHANISMS}" in tips


# --- rendering rules ------------------------------------------------------------


SYMPTOMS = [
    ("loss flat", "loss is flat"),
    ("NaN", "NaN or Inf"),
    ("diverges", "diverges"),
    ("plateaus above the paper", "plateaus above the paper"),
    ("train/val gap", "gap between train and validation"),
    ("accuracy fine but loss high", "accuracy is fine but the loss is high"),
    ("user_code_error traceback", "reports an error"),
    ("return does not improve", "return does not improve"),
    ("loss goes negative and keeps falling", "goes negative"),
    ("KL collapses to 0", "KL collapses"),
    ("teacher-forced accuracy high, free-running accuracy low", "free-running accuracy low"),
    ("training loss low, eval metrics bad", "eval metrics bad"),
    ("DQN Q-values explode", "Q-values grow without bound"),
    ("the DQN return stays at the random policy's", "Q-values grow without bound"),
    ("epsilon never decays", "Q-values grow without bound"),
    ("diffusion samples look like noise", "diffusion samples"),
    ("DDPM misses modes", "diffusion samples"),
    ("MLM masked accuracy at the unigram baseline", "masked-token accuracy"),
    ("BERT ignores padding?", "masked-token accuracy"),
]


def headings(text):
    return re.findall(r"(?m)^## (.*)$", text)


@pytest.mark.anyio
@pytest.mark.parametrize(("symptom", "section"), SYMPTOMS)
async def test_gauntlet_with_a_symptom_returns_that_section_alone(server, symptom, section):
    async with Client(server) as client:
        text = text_of(await client.get_prompt("debugging_gauntlet", {"symptom": symptom}))
        full = text_of(await client.get_prompt("debugging_gauntlet", {}))
    found = headings(text)
    assert section in found[0] and found[0].startswith("Symptom:"), found
    assert all(not h.startswith(("Symptom:", "Stage")) for h in found[1:]), found  # no other section
    assert len(text) < len(full) / 4
    for stage in re.findall(r"(?i)\bstage (\d)", text.split("## The stages named above")[0]):
        stage_call = re.search(rf"(?m)^## Stage {stage}:[^\n]*\n+(`[^\n]*`)$", full).group(1)
        assert stage_call in text, f"stage {stage}'s call is given with the section"


@pytest.mark.anyio
async def test_gauntlet_without_a_symptom_is_the_whole_guide(server):
    async with Client(server) as client:
        text = text_of(await client.get_prompt("debugging_gauntlet", {}))
        resource = (await client.read_resource("guide://debugging_gauntlet")).contents[0].text
    assert text == resource
    _, sections = split_sections(read_markdown("debugging_gauntlet"))
    assert headings(text) == [s.splitlines()[0].removeprefix("## ") for s in sections]


@pytest.mark.anyio
async def test_gauntlet_with_an_unknown_symptom_lists_the_sections(server):
    async with Client(server) as client:
        text = text_of(await client.get_prompt("debugging_gauntlet", {"symptom": "something odd"}))
    assert "No symptom section matches 'something odd'" in text
    _, sections = split_sections(read_markdown("debugging_gauntlet"))
    for section in sections:
        heading = section.splitlines()[0].removeprefix("## ")
        if heading.startswith("Symptom:"):
            assert f"**{heading.removeprefix('Symptom: ')}** (sounds like: " in text  # listed, not shown
            assert "Order:" not in text
        else:
            assert f"**{heading}**: `" in text  # each stage with its call: the plan when nothing matches


def test_a_listed_section_name_selects_its_section():
    listed = render("debugging_gauntlet", {"symptom": "something odd"})
    for name in re.findall(r"(?m)^- \*\*(.+?)\*\* \(sounds like: ", listed):
        assert headings(render("debugging_gauntlet", {"symptom": name}))[0] == f"Symptom: {name}"


def test_stage_puts_its_questions_first():
    text = render("checkpoint_questions", {"component": "attention", "stage": "Implementation"})
    assert re.search(r"(?m)^## (.*)$", text).group(1) == "Stage: implementation (answer these first)"


def test_paper_type_tips_select_one_type_and_implement_paper_appends_them():
    rl = render("paper_type_tips", {"paper_type": "RL"})
    assert "policy gradient" in rl and "## Type:" not in rl and "KL" not in rl
    plan = render("implement_paper", {"paper": "PPO", "paper_type": "rl"})
    assert "Tips for RL" in plan and "done" in plan
    other = render("implement_paper", {"paper": "SimCLR", "paper_type": "other"})
    assert "Tips for" not in other and f"## {MECHANISMS}" in other  # no family section: the mechanisms alone


# --- the text itself ------------------------------------------------------------


def test_every_snake_case_name_in_backticks_is_known():
    known = set(TOOL_ARGS) | FINDING_CODES | HARNESS_NAMES | set(CATALOG) | OTHER_NAMES
    known |= set().union(*TOOL_ARGS.values()) | {a.name for spec in CATALOG.values() for a in spec.arguments}
    known |= {choice for spec in CATALOG.values() for a in spec.arguments for choice in a.choices}
    for label, text in all_texts():
        for name in re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", text):
            assert name in known, f"{label}: `{name}` is not a tool, prompt, argument or finding code (typo?)"


def test_tool_like_names_anywhere_are_real_tools():
    # Catches typos such as run_overfit or check_init in prose, headings and code alike.
    tool_like = re.compile(r"\b(?:run|check|inspect|gradient|lr|compare|start|training|cancel|list)_[a-z_]+\b")
    allowed = set(TOOL_ARGS) | FINDING_CODES | set(CATALOG) | {"run_id", "lr_scheduler"}  # torch.optim.lr_scheduler
    for label, text in all_texts():
        for name in tool_like.findall(text):
            assert name in allowed, f"{label}: {name} is not one of the tools"


def test_skill_md_is_a_valid_skill():
    text = (ROOT / "SKILL.md").read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    assert match, "YAML frontmatter between --- lines"
    front, body = match.groups()
    fields = dict(line.split(": ", 1) for line in front.splitlines())
    assert set(fields) == {"name", "description"}
    assert fields["name"] == "implement-paper-from-scratch"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", fields["name"]) and len(fields["name"]) <= 64
    assert 0 < len(fields["description"]) <= 1024
    assert "<" not in front and ">" not in front
    assert len(body.splitlines()) < 500
    for name in CATALOG:  # the skill points the agent at every prompt
        assert f"`{name}`" in body


def test_gauntlet_symptom_sections_name_tools_and_codes_that_exist():
    """Each symptom section about training gives ordered checks, a tool and the finding codes to look for."""
    _, sections = split_sections(read_markdown("debugging_gauntlet"))
    symptoms = [s for s in sections if s.startswith("## Symptom:") and "reports an error" not in s.splitlines()[0]]
    assert len(symptoms) >= 12
    for section in symptoms:
        assert "Sounds like: " in section and "Order: " in section, section[:60]
        assert any(f"`{tool}" in section for tool in TOOL_ARGS), section[:60]
        assert {c for c in re.findall(r"`([a-z_]+)`", section) if c in FINDING_CODES}, section[:60]


def test_tips_name_the_tool_that_catches_each_classic_bug():
    """The paper-type tips keep the mapping bug -> tool call -> finding code (the brief's table)."""
    expected = {
        "transformer": [
            '"mode": "position"',
            "no_positional_information",
            "saturated_attention",
            '"mode": "causal"',
            "future_leakage",
            "loss_floor",
            "make_scheduler",
            "ignore_index",
            "forward",
        ],
        "rl": [
            "objective_not_improving",
            '"eval_every"',
            '"function": "discounted_returns"',
            '"function": "surrogate_loss"',
            '"function": "chosen_log_probs"',
            "get_train_batch(batch_size, step, model)",
            "objective",
        ],
        "generative": [
            "loss_below_floor",
            "loss_unbounded",
            "negative_kl",
            '"function": "reparameterize"',
            "params_without_grad",
            "no_grad",
            "init_loss_mismatch",
            '"expected_init_loss"',
            "loss_floor",
            "Kingma & Welling 2014",
        ],
        "vision": ["buffers_not_updated", "train_eval_gap", "unnormalized_inputs", "make_scheduler", "objective"],
    }
    for paper_type, words in expected.items():
        tips = tips_section(paper_type)
        for word in words:
            assert word in tips, f"{paper_type} tips lack {word}"
    assert "anneal" not in tips_section("generative").split("KL weight")[0], "the VAE paper does not anneal its KL"


def test_python_examples_in_the_guides_compile():
    for label, text in all_texts():
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", text, re.S)):
            compile(code, f"{label} example {i}", "exec")


def test_no_torch_import():
    for path in (ROOT / "prompts").glob("*.py"):
        assert not re.search(r"(?m)^\s*(import|from)\s+torch", path.read_text()), path


def test_harness_guide_example_runs():
    torch = pytest.importorskip("torch")
    code = re.search(r"```python\n(.*?)```", read_markdown("harness_guide"), re.S).group(1)
    harness = {}
    exec(compile(code, "harness.py", "exec"), harness)  # the example is user code, run as the tools would
    x1, y1 = harness["get_batch"](16, "train")
    x2, y2 = harness["get_batch"](16, "train")
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(harness["get_batch"](16, "test")[0], x1)
    model = harness["build_model"]()
    assert sum(p.numel() for p in model.parameters()) == 5829  # the count the guide quotes
    metrics = harness["evaluate"](model)
    assert set(metrics) == {"test_loss", "test_acc"} and model.training
    assert abs(metrics["test_loss"] - 1.609) < 0.2  # ln(5) at init, as the guide says


def test_docs_findings_table_is_the_code_list():
    """The finding-codes table of docs/results.md says what tools/wire/findings.py says, code for code."""
    page = (Path(__file__).parent.parent / "docs" / "results.md").read_text()
    start = page.index("\n## Finding codes\n")
    end = page.find("\n## ", start + 1)
    section = page[start : end if end != -1 else len(page)]
    table = dict(re.findall(r"^\| `([a-z_]+)` \| (.*) \|$", section, re.M))
    assert table == CODES


# --- the families without a worked type of their own, and the mechanisms they share ------------------------

# What each family's tips must name: the hand-worked cases (check_known_values calls), the calls that sign
# each mechanism off, and the finding codes those calls give.
FAMILY_TIPS = {
    "value_rl": [
        'check_known_values {"harness": "harness.py", "function": "td_target"',
        "[0.0, 1.0]]",  # done=1
        "γ",
        '"function": "chosen_q"',
        '"function": "epsilon"',
        "replay",
        'run_overfit_test {"harness": "harness.py", "sizes": [10]}',
        "grad_reaches_copy",
        "optimizer_updates_copy",
        "copy_never_synced",
        "copy_not_lagging",
        "frozen_copies",
        "schedule_constant",
        "seeds_share_data",
        "objective",
        "start_training {",
        "gradient_through_target",
        "unused_batch_key",
        "undiscounted_target",
    ],
    "diffusion": [
        'check_known_values {"harness": "harness.py", "function": "alpha_bar"',
        "t = 0 and t = T−1",
        '"function": "beta_schedule"',
        '"function": "posterior_mean"',
        '"function": "predict_x0"',
        'check_dependencies {"harness": "harness.py"}',
        "unused_input",
        '"conditions": ["t"]',
        "noise_shared_across_batch",
        "nondeterministic_batch",
        "copy_never_synced",
        "register_buffer",
        '"t": t, "noise": eps',
        "ε, x₀ or v",
        "schedule_constant",
        "schedule_off_by_one",
    ],
    "encoder": [
        'check_known_values {"harness": "harness.py", "function": "corrupt"',
        "80/10/10",
        'check_dependencies {"harness": "harness.py"}',
        "encoder_not_bidirectional",
        "padding_leak",
        "loss_on_unselected_positions",
        '"mode": "position"',
        "no_positional_information",
        "batch_roles",
        "ignore_index",
        "unigram",
        "input_carries_target",
    ],
}
# Each mechanism, the call that probes it and the codes that call gives: the section every family ends with.
MECHANISM_CHECKS = {
    "Frozen copies": [
        'run_overfit_test {"harness": "harness.py", "sizes": [10]}',
        "grad_reaches_copy",
        "optimizer_updates_copy",
        "copy_never_synced",
        "copy_not_lagging",
        "frozen_copies",
    ],
    "Conditioning inputs": ['check_dependencies {"harness": "harness.py"}', "unused_input", '"conditions"'],
    "Attention direction": ['"mode": "both"', "future_leakage", "encoder_not_bidirectional", '"attention"'],
    "Padded positions": ["padding_leak", '"pad_mask"'],
    "Supervised positions": ["loss_on_unselected_positions", "ignore_index", "input_carries_target"],
    "Order": ['"mode": "position"', "no_positional_information"],
    "Per-step randomness": [
        'inspect_data {"harness": "harness.py"',
        "nondeterministic_batch",
        "noise_shared_across_batch",
        "seeds_share_data",
    ],
    "Schedules": [
        "check_known_values",
        'run_overfit_test {"harness": "harness.py"',
        "inspect_model",
        "schedule_constant",
    ],
    "Bootstrapped targets": [
        'check_known_values {"harness": "harness.py"',
        "done=1",
        "grad_reaches_copy",
        "gradient_through_target",
        "unused_batch_key",
        "undiscounted_target",
    ],
}


def mechanism_bullets(text):
    """'**Name**' -> the text of its bullet, in the mechanisms section of `text`."""
    section = text[text.index(f"## {MECHANISMS}") :]
    return {m.group(1): m.group(2) for m in re.finditer(r"(?ms)^- \*\*([^*(.]+?)[.]?\*\*(.*?)(?=^- |\Z)", section)}


@pytest.mark.anyio
@pytest.mark.parametrize("family", sorted(FAMILY_TIPS))
async def test_each_new_family_names_its_known_value_cases_and_the_calls_that_sign_them_off(server, family):
    async with Client(server) as client:
        tips = text_of(await client.get_prompt("paper_type_tips", {"paper_type": family}))
        plan = text_of(await client.get_prompt("implement_paper", {"paper": "x", "paper_type": family}))
    for word in FAMILY_TIPS[family]:
        assert word in tips, f"{family} tips lack {word}"
    assert tips.count("## Tips for") == 1 and "## Type:" not in tips
    assert tips.index("## Tips for") < tips.index(f"## {MECHANISMS}")  # the family first, then what carries over
    assert tips_section(family) in plan and f"## {MECHANISMS}" in plan


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("alias", "family"), [("DQN", "value_rl"), ("ddpm", "diffusion"), ("MLM", "encoder"), ("bert", "encoder")]
)
async def test_method_names_reach_their_family(server, alias, family):
    async with Client(server) as client:
        tips = text_of(await client.get_prompt("paper_type_tips", {"paper_type": alias}))
    assert tips_section(family) in tips


@pytest.mark.anyio
async def test_a_family_no_section_names_gets_every_mechanism_with_its_call(server):
    """paper_type "other" (say a contrastive or a distillation paper): the mechanisms, each with its check."""
    async with Client(server) as client:
        tips = text_of(await client.get_prompt("paper_type_tips", {"paper_type": "other"}))
    assert "## Tips for" not in tips and "## Type:" not in tips
    bullets = mechanism_bullets(tips)
    for mechanism, words in MECHANISM_CHECKS.items():
        bullet = next((text for name, text in bullets.items() if name.startswith(mechanism)), None)
        assert bullet is not None, f"no mechanism bullet {mechanism!r} in {sorted(bullets)}"
        for word in words:
            assert word in bullet, f"{mechanism}: lacks {word}"


def test_every_family_ends_with_the_mechanisms():
    for family in PAPER_TYPES:
        tips = render("paper_type_tips", {"paper_type": family})
        assert tips.rstrip().endswith(mechanism_bullets(tips)["Bootstrapped targets and other formulas"].rstrip())


def known_value_cases(text, function):
    """The cases of the guide's check_known_values calls on `function`."""
    decoder = json.JSONDecoder()
    calls = [decoder.raw_decode(text, m.end())[0] for m in re.finditer(r"check_known_values (?=\{)", text)]
    return [case for call in calls if call["function"] == function for case in call["cases"]]


@pytest.mark.parametrize(
    ("family", "example", "function"),
    [
        ("value_rl", "dqn", "td_target"),
        ("value_rl", "dqn", "chosen_q"),
        ("value_rl", "dqn", "epsilon"),
        ("diffusion", "diffusion", "alpha_bar"),
        ("diffusion", "diffusion", "beta_schedule"),
        ("encoder", "mlm", "corrupt"),
    ],
)
def test_the_tips_cases_are_the_ones_the_worked_examples_sign_off(family, example, function):
    """The worked examples run these cases through check_known_values on their harness and its bug twins
    (tests/test_example_*.py), so a case the tips quote is one a correct harness is known to pass."""
    spec = importlib.util.spec_from_file_location(f"{example}_cases", ROOT / "examples" / example / "cases.py")
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    assert cases.KNOWN[function] in known_value_cases(tips_section(family), function)


def test_the_diffusion_cases_without_a_worked_harness_follow_the_ddpm_formulas():
    tips = tips_section("diffusion")
    (mean,) = known_value_cases(tips, "posterior_mean")
    (x_t,), (eps,), (beta,), (abar,) = mean["args"]
    assert mean["expected"][0] == pytest.approx(
        (x_t - beta / math.sqrt(1 - abar) * eps) / math.sqrt(1 - beta), rel=1e-6
    )
    (x0,) = known_value_cases(tips, "predict_x0")
    (x_t,), (eps,), (abar,) = x0["args"]
    assert x_t == pytest.approx(math.sqrt(abar) * x0["expected"][0] + math.sqrt(1 - abar) * eps)
    assert x0["expected"][0] == pytest.approx((x_t - math.sqrt(1 - abar) * eps) / math.sqrt(abar))
