"""Minimal pairs for the planning corpus: a task and its twin share the instruction but not
the scene, so the right plan differs and the LM must read the ``scene:`` line to tell them
apart.

* :func:`held_twin`: another block in the hand.
* :func:`relabel_twin`: two blocks that the instruction never names trade places in the
  start and in the goal, for the constructions that name a block by where it is ("the block
  at the top left corner", "the block in the red bowl", "swap the blocks in the red bowl and
  the blue bowl").
"""

from __future__ import annotations

import random
from dataclasses import replace

from sim.tasks import Predicate, TaskSpec
from sim.tasks.predicates import object_type
from sim.tasks.reader import COLOUR_WORDS, mentions, normalize

HELD_REFERENCE = "language.held_ref"  # "the block you are holding": the goal is the held block
# language constructions that may name a block by relation only. Never a construction whose
# goal depends on a colour the instruction does not say (sorting by colour)
RELATIONAL = tuple(
    f"language.{name}"
    for name in ("container_ref", "place_ref", "swap", "transfer", "empty_onto", "clear_block")
)


def held_twin(task: TaskSpec, rng: random.Random) -> TaskSpec | None:
    """``task`` with another block in the hand: the goal's block if the task holds a
    different one, else a different one (None when the task holds nothing, or has no other
    block). Such minimal pairs, the same instruction with a different held block, push the
    LM to read which block it holds; without them the bundled LM placed the held block at
    the goal whichever block it was (with them it succeeds about twice as often; see its
    model card). Where the instruction names the block only as the one held
    (``language.held_ref``), the twin's goal moves the block it holds instead."""
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
    twin = replace(task, initial=(*rest, Predicate("holding", (other,))))
    if task.family != HELD_REFERENCE:
        return twin
    first = task.goal[0]
    return replace(twin, goal=(replace(first, args=(other, *first.args[1:])), *task.goal[1:]))


def relabel_twin(task: TaskSpec, rng: random.Random) -> TaskSpec | None:
    """``task`` (of a :data:`RELATIONAL` construction) with two blocks its instruction never
    names, by colour, synonym or description, traded everywhere in its start and goal; None
    when no such trade changes the goal."""
    if task.family not in RELATIONAL:
        return None
    blocks = [o for o in task.all_objects if object_type(o) == "block"]
    text = normalize(task.instruction)
    unnamed = [b for b in blocks if not mentions(text, COLOUR_WORDS, b.split()[0])]
    pairs = [(a, b) for i, a in enumerate(unnamed) for b in unnamed[i + 1 :]]
    rng.shuffle(pairs)
    for pair in pairs:
        twin = replace(
            task,
            initial=tuple(_traded(p, pair) for p in task.initial),
            goal=tuple(_traded(p, pair) for p in task.goal),
        )
        if set(twin.goal) != set(task.goal):
            return twin
    return None


def _traded(predicate: Predicate, pair: tuple[str, str]) -> Predicate:
    a, b = pair
    args = tuple(b if x == a else a if x == b else x for x in predicate.args)
    inner = _traded(predicate.inner, pair) if predicate.inner else None
    return replace(predicate, args=args, inner=inner)
