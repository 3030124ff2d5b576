"""A planning corpus from the task grammar: (instruction, scene, oracle plan) episodes.

Tasks come from :func:`vla.planning.splits.generate_tasks` (train split: no held-out word
and no held-out construction); the plan is :func:`sim.tasks.oracle_plan`; the text is the
planner's prompt format (:mod:`planners.prompt`), with the scene feedback after every skill
(the facts it changed) unless ``feedback=False``. Some train episodes contain a failed
skill (``result: failure``) followed by the right recovery, so the LM learns to use the
executor's feedback: an infeasible skill (the state is unchanged, do what the plan
needed), a place that dropped its block on the way (pick the block up again, then repeat
the place), or a pick or drive that missed (try it again): the commonest failures of a
learned policy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from planners.candidates import SceneDescription, candidate_skills
from planners.prompt import (
    DONE,
    Step,
    changes_line,
    header,
    observed_step,
    option_text,
    result_line,
    step_number,
)
from sim.geometry import WorldState
from sim.skill_text import parse_skill, skill_text
from sim.tasks import Predicate, TaskSpec, apply_skill, is_feasible, oracle_plan, symbolic_world
from sim.tasks.describe import scene_facts
from sim.tasks.spec import SCENE_AREAS, SCENE_PLACES
from sim.tasks.symbolic import knocked_down
from vla.planning.splits import (  # noqa: F401  (re-exported: the corpus's task splits)
    HELD_OUT_WORDS,
    SPLITS,
    generate_tasks,
    split_tables,
    words,
)


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


@dataclass(frozen=True)
class Episode:
    """One training episode: the task's prompt header and its steps (last one ``done``)."""

    header: str
    steps: tuple[Step, ...]


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


def make_episode(
    task: TaskSpec,
    rng: random.Random,
    p_failure: float = 0.0,
    feedback: bool = True,
    state: WorldState | None = None,
) -> Episode:
    """The oracle plan of ``task`` from ``state`` (default: the task's start), with one
    failure inserted with probability p_failure.

    Half the time the failure is the policy's (:func:`_missed`): a place that dropped its
    block, or a pick or drive that missed. Otherwise it is the blind first skill when that
    is infeasible (the likely mistake of a planner that cannot see the state), else a
    random infeasible candidate. ``feedback``: each step carries the facts it changed.
    """
    task = place_robot(task, rng)
    state = symbolic_world(task) if state is None else state
    steps = _planned_steps(task, state, rng, p_failure)
    if feedback:
        steps = _observed(state, steps)
    return Episode(_header(task, state), tuple(steps))


def _header(task: TaskSpec, state: WorldState) -> str:
    scene = scene_of(task, state)
    return header(task.instruction, scene.objects, scene.places, scene.areas, scene.facts)


def _observed(state: WorldState, steps: list[Step]) -> list[Step]:
    """``steps`` with the scene feedback of each: a success has its symbolic effect, a
    failed place that was possible drops its block (:func:`_missed`), any other failure
    changes nothing."""
    out = []
    for step in steps:
        before = scene_facts(state)
        if step.skill == DONE:
            out.append(step)
            continue
        if step.success:
            state = apply_skill(state, step.skill)
        elif parse_skill(step.skill).name.startswith("place") and is_feasible(state, step.skill):
            state = knocked_down(state, state.held)
        out.append(observed_step(step.skill, step.success, before, scene_facts(state)))
    return out


def _planned_steps(task: TaskSpec, state: WorldState, rng: random.Random, p_failure: float):
    plan = oracle_plan(task, state)
    scene = scene_of(task, state)
    steps = [Step(skill, True) for skill in plan[:-1]] + [Step(DONE, True)]
    if rng.random() < p_failure:
        at = rng.randrange(len(plan))
        if plan[at] != DONE and rng.random() < 0.5:
            steps[at:at] = _missed(plan[at])
            return steps
        blind = _naive_first_skill(task) if at == 0 else DONE
        for skill in plan[:at]:
            state = apply_skill(state, skill)
        if blind != DONE and not is_feasible(state, blind):
            failed = blind
        else:
            options = [s for s in candidate_skills(scene)[:-1] if not is_feasible(state, s)]
            failed = rng.choice(options) if options else None
        if failed:
            steps.insert(at, Step(failed, False))
    return steps


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
            text += result_line(step.success) + changes_line(step)
    return text, spans
