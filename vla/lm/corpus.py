"""A planning corpus from the task grammar: (instruction, scene, oracle plan) episodes.

Tasks come from the built-in suites' makers (:data:`sim.tasks.generate.SUITE_MAKERS`) with
other seeds; the plan is :func:`sim.tasks.oracle_plan`; the text is the planner's prompt
format (:mod:`planners.prompt`). The paraphrase tables are split by :data:`HELD_OUT_WORDS`:
a synonym or template containing one of these words exists only in the ``held_out`` split,
so the train corpus never shows those words and the held-out tasks measure generalisation
to unseen wordings. Some train episodes contain a failed skill (``result: failure``) followed
by the right recovery, so the LM learns to use the executor's feedback.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from planners.candidates import SceneDescription, candidate_skills
from planners.prompt import DONE, Step, header, option_text, result_line, step_number
from sim.tasks import TaskSpec, apply_skill, oracle_plan, symbolic_world
from sim.tasks import paraphrase as para
from sim.tasks.generate import SUITE_MAKERS
from sim.tasks.spec import BUILTIN_SUITES, SCENE_AREAS, SCENE_PLACES

SPLITS = ("train", "held_out")
# One synonym per colour, type, place and area, plus verbs, connectors and sentence words.
HELD_OUT_WORDS = frozenset(
    {
        *("cherry", "lime", "cobalt", "mustard", "apricot", "plum", "bubblegum", "teal"),
        *("brick", "basin", "far", "near", "centre", "work", "countertop"),
        *("grab", "grasp", "hold", "toss", "deposit", "inside", "pile", "rest"),
        *("slide", "relocate", "carry", "fetch", "after", "once", "next"),
        *("match", "matching", "unload", "remove", "return"),
    }
)
TABLES = (
    "COLOR_SYNONYMS",
    "TYPE_SYNONYMS",
    "PLACE_SYNONYMS",
    "AREA_SYNONYMS",
    "VERB_TEMPLATES",
    "STEP_CONNECTORS",
    "SORT_INSTRUCTIONS",
    "STACK_INSTRUCTIONS",
    "CLEAR_INSTRUCTIONS",
    "BRING_INSTRUCTIONS",
    "BRING_INTO_INSTRUCTIONS",
    "RETURN_SUFFIXES",
)


def words(text: str) -> set[str]:
    """Lower-case words of ``text`` (letters only; ``top-left`` is two words)."""
    return set(re.findall(r"[a-z]+", text.lower()))


def _keep(phrase: str, split: str) -> bool:
    held = bool(words(phrase) & HELD_OUT_WORDS)
    return held if split == "held_out" else not held


def split_tables(split: str) -> dict[str, Any]:
    """The paraphrase tables of ``split``: phrases with a held-out word only in ``held_out``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; splits: {SPLITS}")
    tables: dict[str, Any] = {}
    for name in TABLES:
        table = getattr(para, name)
        if isinstance(table, dict):
            tables[name] = {k: tuple(p for p in v if _keep(p, split)) for k, v in table.items()}
        else:
            tables[name] = tuple(p for p in table if _keep(p, split))
    return tables


@contextmanager
def paraphrase_tables(tables: dict[str, Any]) -> Iterator[None]:
    """Let the suite makers draw from ``tables`` (they read ``sim.tasks.paraphrase``)."""
    old = {name: getattr(para, name) for name in tables}
    try:
        for name, table in tables.items():
            setattr(para, name, table)
        yield
    finally:
        for name, table in old.items():
            setattr(para, name, table)


def generate_tasks(
    split: str, per_family: int, seed: int, families: tuple[str, ...] = BUILTIN_SUITES
) -> list[TaskSpec]:
    """``per_family`` tasks of each family drawn with ``split``'s tables.

    Held-out tasks must contain a held-out word; families that never can (``single``, whose
    instructions are the skill texts) get none.
    """
    rng = random.Random(f"{seed}:{split}")
    tasks: list[TaskSpec] = []
    with paraphrase_tables(split_tables(split)):
        for family in families:
            makers, made = SUITE_MAKERS[family], 0
            for attempt in range(per_family * 20):
                if made == per_family:
                    break
                task = makers[attempt % len(makers)](rng)
                if split == "held_out" and not words(task.instruction) & HELD_OUT_WORDS:
                    continue
                tasks.append(replace(task, family=family))
                made += 1
    return tasks


def scene_of(task: TaskSpec) -> SceneDescription:
    """The planner's view of a task's scene: object, place and area names."""
    return SceneDescription(
        tuple(task.all_objects), SCENE_PLACES[task.scene], SCENE_AREAS[task.scene]
    )


@dataclass(frozen=True)
class Episode:
    """One training episode: the task's prompt header and its steps (last one ``done``)."""

    header: str
    steps: tuple[Step, ...]


def _feasible(state: Any, skill: str) -> bool:
    try:
        apply_skill(state, skill)
    except ValueError:
        return False
    return True


def _naive_first_skill(task: TaskSpec) -> str:
    """What a planner blind to the initial arrangement would do first."""
    blind = replace(task, initial=())
    return oracle_plan(blind, symbolic_world(blind))[0]


def make_episode(task: TaskSpec, rng: random.Random, p_failure: float = 0.0) -> Episode:
    """The oracle plan of ``task``, with one failed skill inserted with probability p_failure.

    The failure is the blind first skill when that is infeasible (the likely mistake of a
    planner that cannot see the state), else a random infeasible candidate.
    """
    state = symbolic_world(task)
    plan = oracle_plan(task, state)
    scene = scene_of(task)
    steps = [Step(skill, True) for skill in plan[:-1]] + [Step(DONE, True)]
    if rng.random() < p_failure:
        at = rng.randrange(len(plan))
        blind = _naive_first_skill(task) if at == 0 else DONE
        for skill in plan[:at]:
            state = apply_skill(state, skill)
        if blind != DONE and not _feasible(state, blind):
            failed = blind
        else:
            options = [s for s in candidate_skills(scene)[:-1] if not _feasible(state, s)]
            failed = rng.choice(options) if options else None
        if failed:
            steps.insert(at, Step(failed, False))
    head = header(task.instruction, scene.objects, scene.places, scene.areas)
    return Episode(head, tuple(steps))


def render(episode: Episode) -> tuple[str, list[tuple[int, int]]]:
    """Episode text and the character spans the LM learns to write (successful skills, done).

    Failed skills are context only: the LM should not learn to propose them.
    """
    text, spans = episode.header, []
    for index, step in enumerate(episode.steps):
        text += step_number(index)
        option = option_text(step.skill)
        if step.success:
            spans.append((len(text), len(text) + len(option)))
        text += option
        if step.skill != DONE:
            text += result_line(step.success)
    return text, spans
