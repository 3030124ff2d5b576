"""Training steps for the Say: (instruction, scene, candidates) -> the oracle's next skill.

A step is what the Say sees when it chooses (:class:`planners.prompt.PromptView`): the
instruction, the object names, the facts at the start and the facts now. Its target is the
skill the oracle planner (:func:`sim.tasks.oracle_plan`) would run from the state now, so a
step depends on the state, not on how the episode got there.

Each task gives the steps of its oracle plan, and with probability ``p_detour`` the steps of
one detour too: at a random point of the plan something goes wrong and the oracle recovers
from the state that results. A detour is one of:

* the held block falls (a place that missed: the block lies on the table, nothing holds it),
* the top block of a stack falls off (a tower that fell),
* another feasible skill runs (a planner mistake, or a skill the affordance preferred).

Detours put the Say in the states a real episode reaches, which the oracle's own plan never
shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from planners.candidates import candidate_skills
from sim.geometry import WorldState
from sim.tasks import TaskSpec, apply_skill, is_feasible, oracle_plan, symbolic_world
from sim.tasks.describe import scene_facts
from sim.tasks.symbolic import blocks_on, knocked_down
from vla.planning.lm.corpus import place_robot, scene_of

DETOURS = ("dropped", "toppled", "other_skill")


@dataclass(frozen=True)
class SayStep:
    """One choice of the Say and its answer (``candidates[target]``)."""

    instruction: str
    objects: tuple[str, ...]
    facts: tuple[str, ...]  # at the start of the episode
    now: tuple[str, ...]
    candidates: tuple[str, ...]
    target: int
    family: str = ""


def task_steps(task: TaskSpec, rng: random.Random, p_detour: float = 0.0) -> list[SayStep]:
    """The steps of ``task``'s oracle plan, plus those of a detour with probability
    ``p_detour`` (see the module docstring)."""
    task = place_robot(task, rng)
    start = symbolic_world(task)
    scene = scene_of(task, start)
    candidates = tuple(candidate_skills(scene))
    path = _states(task, start)

    def step(state: WorldState) -> SayStep:
        skill = oracle_plan(task, state)[0]
        return SayStep(
            task.instruction, scene.objects, scene.facts, scene_facts(state), candidates,
            candidates.index(skill), task.family or "",
        )  # fmt: skip

    steps = [step(state) for state in path]
    if rng.random() < p_detour:
        detoured = _detour(path[rng.randrange(len(path))], candidates, rng)
        if detoured is not None:
            try:
                steps += [step(state) for state in _states(task, detoured)]
            except ValueError:  # the oracle cannot recover from this one (rare): skip it
                pass
    return steps


def _states(task: TaskSpec, state: WorldState) -> list[WorldState]:
    """Every state on the oracle's way from ``state`` to the goal, ``state`` first."""
    states = [state]
    for skill in oracle_plan(task, state)[:-1]:
        states.append(apply_skill(states[-1], skill))
    return states


def _detour(state: WorldState, candidates, rng: random.Random) -> WorldState | None:
    """``state`` after one random mishap (None when the mishap drawn cannot happen here)."""
    kind = rng.choice(DETOURS)
    try:
        if kind == "dropped":
            return knocked_down(state, state.held) if state.held else None
        if kind == "toppled":
            tops = [n for n, o in state.objects.items() if _on_something(state, n)]
            return knocked_down(state, rng.choice(tops)) if tops else None
        feasible = [s for s in candidates[:-1] if is_feasible(state, s)]
        return apply_skill(state, rng.choice(feasible)) if feasible else None
    except ValueError:
        return None


def _on_something(state: WorldState, name: str) -> bool:
    """A block resting on another block with nothing on it."""
    obj = state.objects[name]
    if obj.kind != "block" or name == state.held or blocks_on(state, name):
        return False
    return any(name in blocks_on(state, other) for other in state.objects if other != name)
