"""The SayCan prompt format, in one place (the planner, the corpus and the LM all use it).

A prompt is optional few-shot examples, then the episode so far, ending where the next skill
is to be written::

    instruction: put the red block in the blue bowl
    objects: red block, blue bowl, green block
    places: top left corner, top right corner, bottom left corner, bottom right corner, middle
    scene: green block in blue bowl
    1. pick up the red block
    result: success
    2.

A line is left out when it has no names (``places`` on the mobile scene, ``areas`` on the
tabletop). ``scene`` lists the facts of the starting arrangement (Inner Monologue's scene
description; ``sim.tasks.describe``): which block is in which bowl or on which block, what is
held, where objects and the robot are in the mobile scene; it too is left out when empty.

An option is scored as ``" " + skill + "\\n"`` after the prompt (:func:`option_text`), so
the newline closes the skill and ``pick up the red block`` cannot win as a prefix of a
longer skill. After a skill runs, ``result: success`` or ``result: failure`` follows it.
Few-shot examples are whole episodes ending with ``done``, separated by a blank line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DONE = "done"
SUCCESS = "success"
FAILURE = "failure"


@dataclass(frozen=True)
class Step:
    """A skill that ran and whether the executor reported success."""

    skill: str
    success: bool


def header(
    instruction: str,
    objects: Sequence[str],
    places: Sequence[str] = (),
    areas: Sequence[str] = (),
    facts: Sequence[str] = (),
) -> str:
    """The lines naming the instruction and the scene, each ending with a newline."""
    lines = [f"instruction: {instruction.strip()}", f"objects: {', '.join(objects)}"]
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


def episode_text(steps: Sequence[Step]) -> str:
    """Steps that ran: numbered skills, each followed by its result line."""
    return "".join(
        step_number(i) + option_text(step.skill) + result_line(step.success)
        for i, step in enumerate(steps)
    )


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
