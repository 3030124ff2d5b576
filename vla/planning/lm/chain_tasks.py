"""Corpus tasks that start where earlier tasks left the world, as ``vla-eval mode=chain``'s do.

The built-in families start from tidy scenes: blocks on the table, a few in bowls or held.
A user who gives instructions one after another (or CALVIN-style chains) leaves blocks
stacked, in bowls and at corners, and an LM that never saw such a start reads its ``scene:``
line poorly: it says ``done`` at once, or picks up the block under the one it was asked to
move. :func:`chain_starts` draws one-goal instructions (:func:`sim.tasks.chain.next_chain_task`,
train-split wordings) from the state that one to ``most`` earlier ones left when the oracle
carried them out, in the scenes of the corpus's own tasks.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sim.geometry import WorldState
from sim.tasks import TaskSpec, apply_skill, oracle_plan, symbolic_world
from sim.tasks.chain import chain_scene_ok, next_chain_task
from vla.planning.splits import paraphrase_tables, split_tables


def chain_starts(
    tasks: Sequence[TaskSpec], count: int, rng: random.Random, most: int = 4
) -> list[tuple[TaskSpec, WorldState]]:
    """``count`` (task, start state) pairs: in the scene of a random tabletop task of ``tasks``
    with two or more blocks, 1 to ``most`` one-goal instructions carried out by the oracle,
    then the task, a one-goal instruction that does not hold yet."""
    scenes = [t for t in tasks if chain_scene_ok(t)]
    if count and not scenes:
        raise ValueError("chain_tasks needs tabletop tasks with two or more blocks")
    out: list[tuple[TaskSpec, WorldState]] = []
    with paraphrase_tables(split_tables("train")):
        while len(out) < count:
            scene = rng.choice(scenes)
            state = symbolic_world(scene)
            try:
                for _ in range(rng.randint(1, most)):
                    earlier = next_chain_task(scene, state, rng)
                    for skill in oracle_plan(earlier, state)[:-1]:
                        state = apply_skill(state, skill)
                out.append((next_chain_task(scene, state, rng), state))
            except ValueError:  # no feasible instruction left in this scene: draw another
                continue
    return out
