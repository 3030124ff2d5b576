"""The SayCan prompt format, in one place (the planner, the corpus and the LM all use it).

A prompt is optional few-shot examples, then the episode so far, ending where the next skill
is to be written::

    instruction: put the red block in the blue bowl
    objects: red block, blue bowl, green block
    places: top left corner, top right corner, bottom left corner, bottom right corner, middle
    scene: green block in blue bowl
    1. pick up the red block
    result: success
    changes: +holding red block
    2.

A line is left out when it has no names (``places`` on the mobile scene, ``areas`` on the
tabletop). ``scene`` lists the facts of the starting arrangement (Inner Monologue's scene
description; ``sim.tasks.describe``): which block is in which bowl or on which block, what is
held, where objects and the robot are; it too is left out when empty.

An option is scored as ``" " + skill + "\\n"`` after the prompt (:func:`option_text`), so
the newline closes the skill and ``pick up the red block`` cannot win as a prefix of a
longer skill. After a skill runs, ``result: success`` or ``result: failure`` follows it, and,
when the planner observes the scene after each skill (Inner Monologue's scene feedback), a
``changes:`` line with the facts that appeared (``+``) and went (``-``), or ``changes: none``:
a block that landed beside the bowl shows as ``-holding red block`` alone, a tower that fell
as ``-green block on red block``. :func:`read_prompt` reads a prompt back, with the scene as
it is now. Few-shot examples are whole episodes ending with ``done``, separated by a blank
line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DONE = "done"
INSTRUCTION = "instruction: "  # opens the line that carries the user's words
SUCCESS = "success"
FAILURE = "failure"
CHANGES = "changes"


@dataclass(frozen=True)
class Step:
    """A skill that ran, whether the executor reported success and, when the scene was
    observed after it, the facts that appeared (``added``) and went (``removed``)."""

    skill: str
    success: bool
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    observed: bool = False  # False: no scene feedback, no ``changes:`` line


def header(
    instruction: str,
    objects: Sequence[str],
    places: Sequence[str] = (),
    areas: Sequence[str] = (),
    facts: Sequence[str] = (),
) -> str:
    """The lines naming the instruction and the scene, each ending with a newline."""
    lines = [f"{INSTRUCTION}{instruction.strip()}", f"objects: {', '.join(objects)}"]
    for name, names in (("places", places), ("areas", areas), ("scene", facts)):
        if names:
            lines.append(f"{name}: {', '.join(names)}")
    return "".join(line + "\n" for line in lines)


def step_number(index: int) -> str:
    """The text that opens step ``index`` (0-based), e.g. ``"1."``; the skill follows it."""
    return f"{index + 1}."


def option_text(skill: str) -> str:
    """The continuation that is scored for ``skill`` after a prompt."""
    return f" {skill}\n"


def result_line(success: bool) -> str:
    """The line that reports a skill's outcome."""
    return f"result: {SUCCESS if success else FAILURE}\n"


def changes_line(step: Step) -> str:
    """The scene feedback after ``step``: ``changes: +new fact, -gone fact`` (or ``none``);
    empty when the scene was not observed."""
    if not step.observed:
        return ""
    changes = [f"+{fact}" for fact in step.added] + [f"-{fact}" for fact in step.removed]
    return f"{CHANGES}: {', '.join(changes) or 'none'}\n"


def episode_text(steps: Sequence[Step]) -> str:
    """Steps that ran: numbered skills, each followed by its result and changes lines."""
    return "".join(
        step_number(i) + option_text(step.skill) + result_line(step.success) + changes_line(step)
        for i, step in enumerate(steps)
    )


def observed_step(skill: str, success: bool, before: Sequence[str], after: Sequence[str]) -> Step:
    """A step with the scene feedback between the facts ``before`` and ``after`` it ran."""
    added = tuple(f for f in after if f not in before)
    removed = tuple(f for f in before if f not in after)
    return Step(skill, success, added, removed, observed=True)


def build_prompt(
    instruction: str,
    objects: Sequence[str],
    steps: Sequence[Step] = (),
    places: Sequence[str] = (),
    areas: Sequence[str] = (),
    examples: Sequence[str] = (),
    facts: Sequence[str] = (),
) -> str:
    """The prompt for choosing the next skill (see the module docstring for the layout).

    ``examples`` are few-shot episodes from :func:`example_text`; the bundled LM is trained
    without them, a general pretrained LM usually needs two or three.
    """
    shots = "".join(example + "\n" for example in examples)
    body = header(instruction, objects, places, areas, facts) + episode_text(steps)
    return shots + body + step_number(len(steps))


def example_text(
    instruction: str,
    objects: Sequence[str],
    skills: Sequence[str],
    places: Sequence[str] = (),
    areas: Sequence[str] = (),
    facts: Sequence[str] = (),
) -> str:
    """A complete successful episode for a few-shot prompt; ``skills`` ends with ``done``."""
    done = [Step(skill, True) for skill in skills[:-1]]
    last = step_number(len(done)) + option_text(skills[-1])
    return header(instruction, objects, places, areas, facts) + episode_text(done) + last


@dataclass(frozen=True)
class PromptView:
    """A prompt read back (:func:`read_prompt`): the header's fields, the steps so far and
    the scene now (the start facts with each step's changes applied, in order)."""

    instruction: str
    objects: tuple[str, ...]
    places: tuple[str, ...]
    areas: tuple[str, ...]
    facts: tuple[str, ...]  # at the start
    steps: tuple[Step, ...]
    now: tuple[str, ...]  # facts after the last step's changes


def instructions_in(text: str) -> list[str]:
    """The instruction of every ``instruction:`` line of ``text`` (a prompt or a corpus
    episode), in order."""
    return [line[len(INSTRUCTION) :] for line in text.split("\n") if line.startswith(INSTRUCTION)]


def read_prompt(prompt: str) -> PromptView:
    """Read the last episode of ``prompt`` (few-shot examples before it are skipped).

    ValueError if it has no ``instruction:`` line.
    """
    episode = prompt[prompt.rfind(INSTRUCTION) :]
    if not episode.startswith(INSTRUCTION):
        raise ValueError("not a SayCan prompt: no 'instruction:' line (see planners.prompt)")
    fields: dict[str, tuple[str, ...]] = {}
    steps: list[Step] = []
    for line in episode.splitlines():
        key, _, value = line.partition(": ")
        number, _, skill = line.partition(". ")
        if key in ("instruction", "objects", "places", "areas", "scene"):
            fields[key] = (value,) if key == "instruction" else _names(value)
        elif number.isdigit() and skill.strip():
            steps.append(Step(skill.strip(), True))
        elif key == "result" and steps:
            steps[-1] = Step(steps[-1].skill, value.strip() == SUCCESS)
        elif key == CHANGES and steps:
            steps[-1] = _with_changes(steps[-1], value)
    start = fields.get("scene", ())
    now = list(start)
    for step in steps:
        now = [f for f in now if f not in step.removed] + [f for f in step.added if f not in now]
    return PromptView(
        fields["instruction"][0], fields.get("objects", ()), fields.get("places", ()),
        fields.get("areas", ()), start, tuple(steps), tuple(now),
    )  # fmt: skip


def _names(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip())


def _with_changes(step: Step, value: str) -> Step:
    changes = [] if value.strip() == "none" else _names(value)
    added = tuple(c[1:] for c in changes if c.startswith("+"))
    removed = tuple(c[1:] for c in changes if c.startswith("-"))
    return Step(step.skill, step.success, added, removed, observed=True)
