"""Building blocks of the task generators: random object names, goal text and task specs.

Shared by the built-in suites' makers (:mod:`sim.tasks.generate`) and the richer task
language (:mod:`sim.tasks.language`). Every function draws from the ``random.Random`` it is
given, so a generator stays deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from sim.geometry import COLORS, MOBILE_AREAS, TABLETOP_PLACES
from sim.skill_text import SKILL_TEMPLATES
from sim.tasks import paraphrase as para
from sim.tasks.spec import TaskSpec, parse_task

COLOURS = tuple(COLORS)
PLACES = tuple(TABLETOP_PLACES)
AREAS = tuple(MOBILE_AREAS)

Maker = Callable[[random.Random], TaskSpec]


def names(rng: random.Random, kind: str, count: int, exclude: Sequence[str] = ()) -> list[str]:
    """``count`` objects of ``kind`` with distinct random colours, none in ``exclude``."""
    colours = [c for c in COLOURS if f"{c} {kind}" not in exclude]
    return [f"{c} {kind}" for c in rng.sample(colours, count)]


def tabletop(rng: random.Random, blocks=(1, 4), bowls=(1, 4)) -> tuple[list[str], list[str]]:
    """Random blocks and bowls, counts drawn from the inclusive ranges."""
    return names(rng, "block", rng.randint(*blocks)), names(rng, "bowl", rng.randint(*bowls))


def make_task(instruction, goal, objects, initial=(), scene="tabletop") -> TaskSpec:
    """A parsed (so validated) task spec from goal and initial predicate texts."""
    item = {"instruction": instruction, "goal": list(goal), "scene": scene}
    item.update({"objects": list(objects), "initial": list(initial)})
    return parse_task(item)


def goal_text(kind: str, obj: str, target: str | None = None) -> str:
    """Goal text for a goal kind of ``VERB_TEMPLATES`` (pick, in, on, at)."""
    if kind == "pick":
        return f"holding({obj})"
    return f"{kind}({obj}, {target})"


def setup(rng: random.Random, kind: str, extra_blocks: int = 0):
    """Objects for one goal of ``kind``: (obj, target, blocks, bowls); obj is ``blocks[0]``."""
    need = (2 if kind == "on" else 1) + extra_blocks
    blocks, bowls = tabletop(rng, blocks=(need, 4), bowls=(1 if kind == "in" else 0, 4))
    target = {"pick": None, "at": rng.choice(PLACES)}.get(kind)
    if kind == "in":
        target = bowls[0]
    elif kind == "on":
        target = blocks[1]
    return blocks[0], target, blocks, bowls


def noun(rng: random.Random, name: str, p: float) -> str:
    """``name`` with colour and type each replaced by a synonym with probability ``p``."""
    colour, kind = name.split()
    if rng.random() < p:
        colour = rng.choice(para.COLOR_SYNONYMS[colour])
    if rng.random() < p:
        kind = rng.choice(para.TYPE_SYNONYMS[kind])
    return f"{colour} {kind}"


def say(rng: random.Random, kind: str, obj: str, target: str | None, templates=None) -> str:
    """One goal in words: a random template of ``kind`` (default: all of its verbs)."""
    template = rng.choice(templates or para.VERB_TEMPLATES[kind])
    return template.format(obj=obj, target=target)


def other_verbs(kind: str) -> tuple[str, ...]:
    """The verb templates of ``kind`` other than the skill text's own."""
    canonical = {"pick": "pick", "in": "place_in", "on": "place_on", "at": "place_at"}[kind]
    return tuple(t for t in para.VERB_TEMPLATES[kind] if t != SKILL_TEMPLATES[canonical])
