"""The richer task language: every construction makes valid tasks the oracle can reach, and
the words of each construction mean what its goal says."""

from __future__ import annotations

import random

import pytest

from sim.tasks import all_hold, apply_skill, oracle_plan, symbolic_world
from sim.tasks import paraphrase as para
from sim.tasks import paraphrase_language as lang
from sim.tasks.describe import scene_facts
from sim.tasks.language import CONSTRUCTIONS, HELD_OUT_CONSTRUCTIONS
from sim.tasks.language_references import SIDE_PLACES


@pytest.mark.parametrize("name", sorted(CONSTRUCTIONS))
def test_every_construction_makes_reachable_goals(name):
    rng = random.Random(name)
    for _ in range(40):
        task = CONSTRUCTIONS[name](rng)
        state = symbolic_world(task)
        assert all_hold(task.initial, state)
        assert not all_hold(task.goal, state), task  # there is something to do
        for skill in oracle_plan(task, state):
            state = apply_skill(state, skill)
        assert all_hold(task.goal, state), task


def test_held_out_constructions_are_constructions():
    assert set(HELD_OUT_CONSTRUCTIONS) < set(CONSTRUCTIONS)
    assert len(HELD_OUT_CONSTRUCTIONS) == 3


def _made(name: str, count: int = 60, seed: int = 0):
    rng = random.Random(seed)
    return [CONSTRUCTIONS[name](rng) for _ in range(count)]


def test_exclusions_keep_the_named_block_out_of_the_bowl():
    for name in ("except_for", "leave_out"):
        for task in _made(name):
            excluded = [g.inner for g in task.goal if g.negated]
            assert len(excluded) == 1 and excluded[0].name == "in"
            block, bowl = excluded[0].args
            assert block.split()[0] in task.instruction or any(
                s in task.instruction for s in para.COLOR_SYNONYMS[block.split()[0]]
            )
            movers = {g.args[0] for g in task.goal if not g.negated}
            assert block not in movers and {g.args[1] for g in task.goal if not g.negated} == {bowl}


def test_towers_listed_from_the_top_are_built_upside_down_from_the_listing():
    for task in _made("tower_top_down"):
        order = [w for w in task.instruction.replace(",", "").split() if w in para.COLOR_SYNONYMS]
        below = {g.args[0]: g.args[1] for g in task.goal}
        top = f"{order[0]} block"
        assert top in below and top not in below.values()  # the first named is on top


def test_but_first_says_the_later_step_first():
    for task in _made("but_first"):
        first, second = task.goal  # goal order is the order of doing
        mention = [task.instruction.index(p.args[0]) for p in (first, second)]
        assert mention[1] < mention[0]


def test_side_references_name_the_block_on_that_side():
    for task in _made("side_ref"):
        block = task.goal[0].args[0]
        place = next(p.args[1] for p in task.initial if p.args[0] == block)
        side = next(
            s
            for s, phrases in lang.SIDE_REFS.items()
            if any(f"the {p} " in task.instruction for p in phrases)
        )
        assert place in SIDE_PLACES[side]


def test_references_are_resolved_by_the_start_facts():
    for name, relation in (("held_ref", "holding"), ("place_ref", " at ")):
        for task in _made(name, 20):
            block = task.goal[0].args[0]
            facts = scene_facts(symbolic_world(task))
            assert any(block in f and relation in f for f in facts), (task, facts)
            assert block not in task.instruction  # named by its relation only


def test_the_other_has_exactly_two_blocks_and_two_bowls():
    for task in _made("the_other"):  # a third bowl would make "the other bowl" ambiguous
        kinds = [o.split()[-1] for o in task.all_objects]
        assert sorted(kinds) == ["block", "block", "bowl", "bowl"], task
