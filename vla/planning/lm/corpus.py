"""A planning corpus from the task grammar: (instruction, scene, oracle plan) episodes.

Tasks come from the built-in suites' makers (:data:`sim.tasks.generate.SUITE_MAKERS`) with
other seeds; the plan is :func:`sim.tasks.oracle_plan`; the text is the planner's prompt
format (:mod:`planners.prompt`). The paraphrase tables are split by :data:`HELD_OUT_WORDS`:
a template containing one of these words exists only in the ``held_out`` split, so the
train corpus never shows those words and the held-out tasks measure generalisation to
unseen wordings (verbs, connectors, sentence templates; every noun synonym is trained).
Some train episodes contain a failed skill (``result: failure``) followed by the right
recovery, so the LM learns to use the executor's feedback: an infeasible skill (the state
is unchanged, do what the plan needed), a place that dropped its block on the way (pick
the block up again, then repeat the place), or a pick or drive that missed (try it again):
the commonest failures of a learned policy.
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
from sim.geometry import WorldState
from sim.skill_text import parse_skill, skill_text
from sim.tasks import Predicate, TaskSpec, apply_skill, oracle_plan, symbolic_world
from sim.tasks import paraphrase as para
from sim.tasks.describe import scene_facts
from sim.tasks.generate import SUITE_MAKERS
from sim.tasks.predicates import object_type
from sim.tasks.spec import BUILTIN_SUITES, SCENE_AREAS, SCENE_PLACES

SPLITS = ("train", "held_out")
# One or two wordings per kind of sentence: verbs of each skill, step connectors, and the
# sort, clear, bring and return phrasings. Names of colours, objects, places and areas are
# vocabulary, not wording: all their synonyms are trained, because a from-scratch LM cannot
# guess what an unseen noun ("cherry") names, and the built-in suites use every synonym.
HELD_OUT_WORDS = frozenset(
    {
        *("grasp", "hold", "toss", "deposit", "rest", "relocate"),
        *("once", "next", "match", "unload", "fetch", "return"),
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


def _held(phrase: str) -> bool:
    return bool(words(phrase) & HELD_OUT_WORDS)


def _split_phrases(phrases: tuple[str, ...], split: str) -> tuple[str, ...]:
    """``train``: the phrases without a held-out word. ``held_out``: the phrases with one,
    or all of them where there are none (nouns: every synonym is trained)."""
    held = tuple(p for p in phrases if _held(p))
    if split == "held_out":
        return held or phrases
    return tuple(p for p in phrases if not _held(p))


def split_tables(split: str) -> dict[str, Any]:
    """The paraphrase tables of ``split`` (see :func:`_split_phrases`)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; splits: {SPLITS}")
    tables: dict[str, Any] = {}
    for name in TABLES:
        table = getattr(para, name)
        if isinstance(table, dict):
            tables[name] = {k: _split_phrases(v, split) for k, v in table.items()}
        else:
            tables[name] = _split_phrases(table, split)
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


def scene_of(task: TaskSpec, state: WorldState | None = None) -> SceneDescription:
    """The planner's view of a task's scene: object, place and area names, and the facts of
    ``state`` (default: the task's symbolic start, :func:`sim.tasks.symbolic_world`)."""
    facts = scene_facts(state if state is not None else symbolic_world(task))
    return SceneDescription(
        tuple(task.all_objects), SCENE_PLACES[task.scene], SCENE_AREAS[task.scene], facts
    )


def place_robot(task: TaskSpec, rng: random.Random) -> TaskSpec:
    """A mobile task without ``robot_at`` starts the robot at a random area, as the
    simulator does (:func:`sim.layout.sample_layout`); others are returned as they are."""
    areas = SCENE_AREAS[task.scene]
    if not areas or any(p.name == "robot_at" for p in task.initial):
        return task
    return replace(task, initial=(*task.initial, Predicate("robot_at", (rng.choice(areas),))))


def held_twin(task: TaskSpec, rng: random.Random) -> TaskSpec | None:
    """``task`` with another block in the hand: the goal's block if the task holds a
    different one, else a different one (None when the task holds nothing, or has no other
    block). Such minimal pairs, the same instruction with a different held block, push the
    LM to read which block it holds; without them the bundled LM placed the held block at
    the goal whichever block it was (with them it succeeds about twice as often; see its
    model card)."""
    held = [p for p in task.initial if p.name == "holding"]
    if not held or not task.goal or task.goal[0].name == "not":
        return None
    goal_block, rest = task.goal[0].args[0], [p for p in task.initial if p.name != "holding"]
    if held[0].args[0] != goal_block:
        other = goal_block
    else:
        blocks = (o for o in task.all_objects if object_type(o) == "block")
        others = [b for b in blocks if b not in task.goal[0].args]
        if not others:
            return None
        other = rng.choice(others)
    return replace(task, initial=(*rest, Predicate("holding", (other,))))


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


def _missed(skill: str) -> list[Step]:
    """A feasible ``skill`` that the policy failed, and what comes before the plan resumes
    with ``skill`` again: after a dropped place, the pick of its block; after a missed pick
    or drive, nothing (it is simply tried again)."""
    call = parse_skill(skill)
    if call.name.startswith("place"):
        return [Step(skill, False), Step(skill_text("pick", call.obj), True)]
    return [Step(skill, False)]


def make_episode(task: TaskSpec, rng: random.Random, p_failure: float = 0.0) -> Episode:
    """The oracle plan of ``task``, with one failure inserted with probability p_failure.

    Half the time the failure is the policy's (:func:`_missed`): a place that dropped its
    block, or a pick or drive that missed. Otherwise it is the blind first skill when that
    is infeasible (the likely mistake of a planner that cannot see the state), else a
    random infeasible candidate.
    """
    task = place_robot(task, rng)
    state = symbolic_world(task)
    plan = oracle_plan(task, state)
    scene = scene_of(task, state)
    head = header(task.instruction, scene.objects, scene.places, scene.areas, scene.facts)
    steps = [Step(skill, True) for skill in plan[:-1]] + [Step(DONE, True)]
    if rng.random() < p_failure:
        at = rng.randrange(len(plan))
        if plan[at] != DONE and rng.random() < 0.5:
            steps[at:at] = _missed(plan[at])
            return Episode(head, tuple(steps))
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
