"""Scene facts: the arrangement a planner is told at the start, as short phrases.

Inner Monologue (Huang et al. 2022) gives the LM a scene description next to the success
feedback; a SayCan prompt with object names only cannot tell which blocks are in the bowl
to clear, or that the robot must drive to the table before the pick. The facts are::

    red block in blue bowl      a block in a bowl
    green block on red block    a block resting on another
    cyan block at table         (mobile) the area an object stands on
    red block at middle         (tabletop) a named place an object stands on
    holding pink block          the gripper holds it
    robot at counter            (mobile) the area whose dock the base is at

Blocks first, in ``COLORS`` order, then bowls, then the robot. A tabletop object at none of
the named places has no fact: free objects are spawned clear of them.
"""

from __future__ import annotations

from sim.geometry import WorldState
from sim.tasks.predicates import Predicate, evaluate
from sim.tasks.spec import object_sort_key
from sim.tasks.symbolic import area_of


def scene_facts(state: WorldState) -> tuple[str, ...]:
    """The facts of ``state`` (see the module docstring), in a fixed order."""
    names = sorted(state.objects, key=object_sort_key)
    blocks = [n for n in names if state.objects[n].kind == "block"]
    bowls = [n for n in names if state.objects[n].kind == "bowl"]
    facts = [fact for block in blocks if (fact := _block_fact(state, block, blocks, bowls))]
    facts += [f"{bowl} at {where}" for bowl in bowls if (where := _location(state, bowl))]
    if state.robot_location:
        facts.append(f"robot at {state.robot_location}")
    return tuple(facts)


def _block_fact(state: WorldState, block: str, blocks: list[str], bowls: list[str]) -> str:
    if state.held == block:
        return f"holding {block}"
    for bowl in bowls:
        if evaluate(Predicate("in", (block, bowl)), state):
            return f"{block} in {bowl}"
    for other in blocks:
        if other != block and evaluate(Predicate("on", (block, other)), state):
            return f"{block} on {other}"
    where = _location(state, block)
    return f"{block} at {where}" if where else ""


def _location(state: WorldState, name: str) -> str | None:
    """The area (mobile) or named place (tabletop) object ``name`` stands on, if any."""
    area = area_of(state, name)
    if area:
        return area
    return next((p for p in state.places if evaluate(Predicate("at", (name, p)), state)), None)
