"""The prompt catalog: which guides exist, their arguments, and how each is rendered.

Every prompt is one Markdown file next to this module, named after the prompt, with
`$argument` placeholders (string.Template; `$$` is a literal dollar). This module is
pure text processing: no MCP and no torch, so it is cheap to import and easy to test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from string import Template

# The families a tips section exists for: the four worked types first, then the families that share their
# mechanisms but not their bugs (DQN-style value RL, diffusion, masked-LM encoders).
PAPER_TYPES = ("transformer", "rl", "generative", "vision", "value_rl", "diffusion", "encoder")
_PAPER_TYPE_TITLES = {
    "transformer": "transformer",
    "rl": "RL / policy-gradient",
    "generative": "generative-model",
    "vision": "computer-vision",
    "value_rl": "value-based RL (DQN)",
    "diffusion": "diffusion-model",
    "encoder": "encoder / masked-LM",
}
# The mechanisms section that every family's tips end with, and the only tips for a family no section names.
MECHANISMS = "Mechanisms: every family"
STAGES = ("understanding", "implementation", "debugging")


class PromptArgumentError(ValueError):
    """A prompt was called with an argument it cannot use (unknown name or value)."""


@dataclass(frozen=True)
class Argument:
    name: str
    description: str
    required: bool = False
    default: str = ""  # phrase rendered when the argument is absent, so no `$name` is left over
    choices: tuple[str, ...] = ()  # when set, any other value is refused with the list of valid ones
    aliases: tuple[tuple[str, str], ...] = ()  # (other name, choice): names an agent is likely to try first


@dataclass(frozen=True)
class PromptSpec:
    name: str  # prompt name = Markdown file stem = resource guide://<name>
    title: str
    description: str
    arguments: tuple[Argument, ...] = ()
    # Rearranges the rendered text given the arguments the caller actually passed.
    arrange: Callable[[str, Mapping[str, str]], str] | None = field(default=None, repr=False)


# ---------------------------------------------------------------------------
# Sections: the guides that adapt to an argument are split at their "## " headings.


def split_sections(text: str) -> tuple[str, list[str]]:
    """Markdown -> (text before the first '## ' heading, [each '## ' section])."""
    intro, *sections = re.split(r"(?m)^(?=## )", text)
    return intro, sections


def _heading(section: str) -> str:
    return section.splitlines()[0].removeprefix("## ").strip()


def _move_to_front(text: str, score: Callable[[str], int], note: str) -> str | None:
    """Move the best-scoring section up to just after the intro, its heading marked `(note)`.

    Returns None when no section scores above 0, so the caller can decide what to say instead.
    """
    intro, sections = split_sections(text)
    scores = [score(s) for s in sections]
    if max(scores, default=0) <= 0:
        return None
    chosen = sections.pop(scores.index(max(scores)))  # the first of equals wins
    first = f"## {_heading(chosen)} ({note})\n" + chosen.split("\n", 1)[1]
    return intro + first + "".join(sections)


def _sounds_like(section: str) -> list[str]:
    match = re.search(r"(?m)^Sounds like: (.+)$", section)
    return [p.strip().lower() for p in match.group(1).split(",") if p.strip()] if match else []


def _symptom_score(section: str, symptom: str) -> int:
    """How many of the section's 'Sounds like:' phrases start a word in the symptom; a symptom
    that is part of the heading (copied from the list of sections) counts too."""
    symptom = symptom.lower()
    in_heading = len(symptom) > 3 and symptom in _heading(section).lower().removeprefix("symptom:")
    return in_heading + sum(bool(re.search(r"\b" + re.escape(p), symptom)) for p in _sounds_like(section))


def _stage_calls(sections: list[str], wanted: Callable[[str], bool]) -> str:
    """One line per stage section that `wanted` accepts: its heading and its first call."""
    lines = []
    for section in sections:
        heading = _heading(section)
        if heading.startswith("Stage") and wanted(heading):
            call = next((line for line in section.splitlines() if line.startswith("`")), "")
            lines.append(f"- **{heading}**: {call}")
    return "\n".join(lines) + "\n"


_FULL_TEXT = (
    "The whole gauntlet (what each finding of every stage means) is this prompt without `symptom`, "
    "or the resource guide://debugging_gauntlet.\n"
)


def _focus_symptom(text: str, given: Mapping[str, str]) -> str:
    """The matching symptom's section and the calls of the stages it names; the full text without a symptom;
    the list of symptom sections when none matches, so the caller can ask again in their words."""
    symptom = given.get("symptom")
    if not symptom:
        return text
    intro, sections = split_sections(text)
    symptoms = [s for s in sections if _heading(s).startswith("Symptom:")]
    scores = [_symptom_score(s, symptom) for s in symptoms]
    if max(scores, default=0) <= 0:
        menu = "\n".join(
            f"- **{_heading(s).removeprefix('Symptom: ')}** (sounds like: {', '.join(_sounds_like(s)[:4])})"
            for s in symptoms
        )
        return (
            intro + f"## No symptom section matches '{symptom}'\n\nThe sections, with words that select each "
            f"(pass one as `symptom`):\n\n{menu}\n\nOr run the stages in order:\n\n"
            + _stage_calls(sections, lambda heading: True)
            + "\n"
            + _FULL_TEXT
        )
    chosen = symptoms[scores.index(max(scores))]  # the first of equals wins
    named = set(re.findall(r"(?i)\bstages? (\d+)", chosen))
    stages = _stage_calls(sections, lambda heading: heading.split(":")[0].removeprefix("Stage ") in named)
    tail = f"## The stages named above\n\n{stages}\n" if named else ""
    return intro + chosen.rstrip("\n") + "\n\n" + tail + _FULL_TEXT


def _focus_stage(text: str, given: Mapping[str, str]) -> str:
    stage = given.get("stage")
    if not stage:
        return text
    focused = _move_to_front(text, lambda s: _heading(s) == f"Stage: {stage}", "answer these first")
    return focused or text


def _section_body(guide: str, heading: str) -> str:
    _, sections = split_sections(read_markdown(guide))
    section = next(s for s in sections if _heading(s) == heading)
    return section.split("\n", 1)[1].strip() + "\n"


def tips_section(paper_type: str) -> str:
    """The '## Type: <paper_type>' section of paper_type_tips.md, without its heading."""
    return _section_body("paper_type_tips", f"Type: {paper_type}")


def tips_for(paper_type: str) -> str:
    """The family's tips under one heading, then the mechanisms every family shares.

    "other" (a family no section names) gets the mechanisms alone: they are what carries over."""
    mechanisms = f"## {MECHANISMS}\n\n" + _section_body("paper_type_tips", MECHANISMS)
    if paper_type not in PAPER_TYPES:
        return mechanisms
    return f"## Tips for {_PAPER_TYPE_TITLES[paper_type]} papers\n\n" + tips_section(paper_type) + "\n" + mechanisms


def _only_paper_type(text: str, given: Mapping[str, str]) -> str:
    intro, _ = split_sections(text)
    return intro + tips_for(given["paper_type"])


def _append_paper_type_tips(text: str, given: Mapping[str, str]) -> str:
    paper_type = given.get("paper_type")
    if not paper_type:
        return text
    return text + "\n" + tips_for(paper_type)


# ---------------------------------------------------------------------------
# The catalog. Argument names and prompt names are part of the public interface.

_PAPER = Argument(
    "paper",
    "The paper: title, arXiv id or link, and any notes on it.",
    required=True,
    default="the paper from this conversation",
)
_PAPER_OPTIONAL = Argument(
    "paper", "The paper being implemented (title or arXiv id).", default="the paper from this conversation"
)
_NOTES = Argument("notes", "Anything else: constraints, compute budget, which result to reproduce.", default="none")
# A paper is often named by its method rather than its family: map those names to the family's tips.
_PAPER_TYPE_ALIASES = (
    ("dqn", "value_rl"),
    ("q_learning", "value_rl"),
    ("ddpm", "diffusion"),
    ("mlm", "encoder"),
    ("bert", "encoder"),
)
_FAMILIES = ", ".join(PAPER_TYPES)
_COMPONENT = Argument(
    "component",
    "What is being built at this step, e.g. 'patch embedding'.",
    default="the component you are building now",
)

PROMPTS: tuple[PromptSpec, ...] = (
    PromptSpec(
        "implement_paper",
        "Implement a paper from scratch",
        "Entry point: the whole plan from analysis through scaffold, debugging, comparison and "
        "report, with the tool call that checks each step.",
        (
            _PAPER,
            Argument(
                "paper_type",
                f"One of {_FAMILIES}, other; adds that family's tips and the mechanism "
                "checks every family shares (other: the mechanisms alone).",
                default=f"not stated (if it is one of {_FAMILIES}, use the paper_type_tips prompt)",
                choices=PAPER_TYPES + ("other",),
                aliases=_PAPER_TYPE_ALIASES,
            ),
            _NOTES,
        ),
        arrange=_append_paper_type_tips,
    ),
    PromptSpec(
        "pre_implementation_analysis",
        "Pre-implementation analysis",
        "Before any code: the minimal algorithm, the components, the tricky parts, and the "
        "reference numbers (init loss, parameter count, metrics) the checking tools will need.",
        (_PAPER, _NOTES),
    ),
    PromptSpec(
        "scaffold_data",
        "Scaffold step 1: data",
        "Build get_batch on synthetic data first; checked with inspect_data.",
        (_COMPONENT, _PAPER_OPTIONAL),
    ),
    PromptSpec(
        "scaffold_model",
        "Scaffold step 2: model",
        "Build the architecture layer by layer; checked with inspect_model and check_initialization.",
        (_COMPONENT, _PAPER_OPTIONAL),
    ),
    PromptSpec(
        "scaffold_loss",
        "Scaffold step 3: loss",
        "Implement the objective term by term; checked with check_initialization (ln C at init) "
        "and gradient_check, including numerical checks of custom ops.",
        (_COMPONENT, _PAPER_OPTIONAL),
    ),
    PromptSpec(
        "scaffold_training_loop",
        "Scaffold step 4: training loop",
        "A minimal loop that memorises 1, 10 and 100 examples; checked with run_overfit_test and lr_sweep.",
        (_COMPONENT, _PAPER_OPTIONAL),
    ),
    PromptSpec(
        "scaffold_evaluation",
        "Scaffold step 5: evaluation",
        "The paper's exact metrics over several seeds; start_training, training_status, compare_metrics.",
        (_COMPONENT, _PAPER_OPTIONAL),
    ),
    PromptSpec(
        "debugging_gauntlet",
        "The debugging gauntlet",
        "When training does not work: the ordered tool calls (overfit, gradients, init, learning "
        "rate, dependencies, ablation) and which finding codes to look for. Given a symptom, that "
        "symptom's section alone; an unrecognised symptom lists the sections; none, the whole guide.",
        (
            Argument(
                "symptom",
                "What goes wrong, in your words, e.g. 'loss flat', 'NaN', 'diverges', 'plateaus "
                "above the paper', 'train/val gap', 'DQN Q-values explode', 'diffusion samples "
                "are noise', 'masked accuracy at the unigram baseline'.",
                default="not stated (run the stages in order)",
            ),
        ),
        arrange=_focus_symptom,
    ),
    PromptSpec(
        "checkpoint_questions",
        "Checkpoint questions",
        "Questions to answer before moving on: why the component exists, how it is implemented, "
        "and how it would look broken (with the tool that would show it).",
        (
            Argument(
                "component",
                "The component in question, e.g. 'multi-head attention'.",
                required=True,
                default="the component you are building now",
            ),
            Argument(
                "stage",
                "understanding, implementation or debugging; that stage's questions come first.",
                default="all three (understanding, implementation, debugging)",
                choices=STAGES,
            ),
        ),
        arrange=_focus_stage,
    ),
    PromptSpec(
        "paper_type_tips",
        "Tips by paper type",
        "The silent bugs of one family of papers and the tool calls that expose them, then the mechanisms "
        "every family shares (frozen copies, conditioning inputs, attention direction, padding, supervised "
        "positions, per-step randomness, schedules) with the check that probes each.",
        (
            Argument(
                "paper_type",
                f"One of {_FAMILIES}; or other, for the mechanism checks alone (aliases: dqn, ddpm, mlm, bert).",
                required=True,
                default="",
                choices=PAPER_TYPES + ("other",),
                aliases=_PAPER_TYPE_ALIASES,
            ),
        ),
        arrange=_only_paper_type,
    ),
    PromptSpec(
        "session_report",
        "Session report",
        "The report that closes a session: goal, prerequisites, notes, checkpoint answers, and "
        "verification steps each tied to a tool result.",
        (
            Argument(
                "goal",
                "What this session set out to build.",
                default="not stated (name one component and what 'working' means for it)",
            ),
            _COMPONENT,
        ),
    ),
    PromptSpec(
        "harness_guide",
        "Writing the harness file",
        "How to expose your model and data to the tools: the harness contract, its defaults, "
        "and a complete small example.",
    ),
)

CATALOG: dict[str, PromptSpec] = {spec.name: spec for spec in PROMPTS}


# ---------------------------------------------------------------------------
# Rendering


def read_markdown(name: str) -> str:
    # importlib.resources, not a path next to __file__: works from a wheel or a zip too.
    return files(__package__).joinpath(f"{name}.md").read_text(encoding="utf-8")


def _given(spec: PromptSpec, arguments: Mapping[str, str | None]) -> dict[str, str]:
    """Validate the caller's arguments; return the non-empty ones, stripped (choices lowercased)."""
    known = {a.name: a for a in spec.arguments}
    unknown = sorted(set(arguments) - set(known))
    if unknown:
        takes = ", ".join(known) or "no arguments"
        raise PromptArgumentError(
            f"Prompt '{spec.name}' got unknown argument(s) {', '.join(unknown)}; it takes: {takes}."
        )
    given = {}
    for name, value in arguments.items():
        value = (value or "").strip()
        if not value:  # an empty string from a form field means "not given"
            continue
        arg = known[name]
        if arg.choices:
            value = dict(arg.aliases).get(value.lower(), value.lower())
            if value not in arg.choices:
                raise PromptArgumentError(
                    f"Invalid {name} {value!r} for prompt '{spec.name}'; valid values: {', '.join(arg.choices)}."
                )
        given[name] = value
    missing = [a.name for a in spec.arguments if a.required and a.name not in given]
    if missing:
        raise PromptArgumentError(f"Prompt '{spec.name}' needs argument(s): {', '.join(missing)}.")
    return given


def render(name: str, arguments: Mapping[str, str | None] | None = None) -> str:
    """The prompt's Markdown with its arguments filled in and arranged for them."""
    spec = CATALOG[name]
    given = _given(spec, arguments or {})
    values = {a.name: a.default for a in spec.arguments} | given
    text = Template(read_markdown(name)).safe_substitute(values)
    return spec.arrange(text, given) if spec.arrange else text


def render_reference(name: str) -> str:
    """The whole guide with default phrases and no arrangement, for reading as a resource."""
    spec = CATALOG[name]
    return Template(read_markdown(name)).safe_substitute({a.name: a.default for a in spec.arguments})
