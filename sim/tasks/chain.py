"""Instruction chains in CALVIN's manner: one scene, each instruction starting where the
previous one left the world.

:func:`next_chain_task` draws a one-goal tabletop instruction (put a block in a bowl, on
another block, or at a named place) that does not hold yet and that the oracle can plan
from the current state, worded with a random verb template of :mod:`sim.tasks.paraphrase`.
"""

from __future__ import annotations

import random
from dataclasses import replace

from sim.geometry import TABLETOP_PLACES, WorldState
from sim.tasks import paraphrase as para
from sim.tasks.oracle import oracle_plan
from sim.tasks.predicates import all_hold, object_type, parse_predicate
from sim.tasks.spec import TaskSpec

CHAIN_FAMILY = "chain"


def _goals(objects: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Every (kind, object, target) one-goal placement of the scene's blocks."""
    blocks = [o for o in objects if object_type(o) == "block"]
    bowls = [o for o in objects if object_type(o) == "bowl"]
    goals = []
    for block in blocks:
        goals += [("in", block, bowl) for bowl in bowls]
        goals += [("on", block, other) for other in blocks if other != block]
        goals += [("at", block, place) for place in TABLETOP_PLACES]
    return goals


def chain_scene_ok(task: TaskSpec) -> bool:
    """Whether ``task``'s scene can start a chain: tabletop with at least two blocks."""
    blocks = [o for o in task.all_objects if object_type(o) == "block"]
    return task.scene == "tabletop" and len(blocks) >= 2


def next_chain_task(scene_task: TaskSpec, state: WorldState, rng: random.Random) -> TaskSpec:
    """A feasible instruction for the scene of ``scene_task`` from ``state``.

    Raises:
        ValueError: no placement of the scene's blocks is both unmet and plannable.
    """
    objects = scene_task.all_objects
    goals = _goals(objects)
    rng.shuffle(goals)
    for kind, obj, target in goals:
        goal = (parse_predicate(f"{kind}({obj}, {target})"),)
        if all_hold(goal, state):
            continue
        text = rng.choice(para.VERB_TEMPLATES[kind]).format(obj=obj, target=target)
        task = replace(
            scene_task,
            instruction=text,
            goal=goal,
            objects=objects,
            initial=(),
            family=CHAIN_FAMILY,
            max_skills=None,
        )
        try:
            oracle_plan(task, state)
        except ValueError:
            continue
        return task
    raise ValueError(f"no feasible chain instruction in the scene of {scene_task.instruction!r}")
