"""Minimal pairs of the planning corpus: the same instruction, another scene, another plan."""

import random
from dataclasses import replace

from sim.tasks import all_hold, apply_skill, oracle_plan, symbolic_world
from vla.planning.lm.corpus import generate_tasks
from vla.planning.lm.train_lm import LMTrainConfig, build_corpus
from vla.planning.lm.twins import RELATIONAL, held_twin, relabel_twin


def test_held_twins_differ_only_in_the_held_block_and_need_other_plans():
    rng = random.Random(0)
    tasks = generate_tasks("train", 60, seed=0, families=("embodiment",))
    pairs = [(t, twin) for t in tasks if (twin := held_twin(t, rng))]
    assert pairs and held_twin(replace(tasks[0], initial=()), rng) is None
    for task, twin in pairs:
        assert (twin.instruction, twin.goal) == (task.instruction, task.goal)
        held = {p.args[0] for t in (task, twin) for p in t.initial if p.name == "holding"}
        assert len(held) == 2 and task.goal[0].args[0] in held
        plans = [oracle_plan(t, symbolic_world(t)) for t in (task, twin)]
        assert plans[0] != plans[1]


def test_a_held_reference_twin_moves_the_block_it_holds():
    # "put the block you are holding in the green bowl" means whichever block is held
    rng = random.Random(0)
    tasks = generate_tasks("train", 20, seed=0, families=("language",))
    refs = [t for t in tasks if t.family == "language.held_ref"]
    pairs = [(t, twin) for t in refs if (twin := held_twin(t, rng))]
    assert len(pairs) > 10
    for task, twin in pairs:
        held = next(p.args[0] for p in twin.initial if p.name == "holding")
        assert twin.instruction == task.instruction and twin.goal[0].args[0] == held
        assert twin.goal[0].args[1:] == task.goal[0].args[1:] and held != task.goal[0].args[0]
        plan = oracle_plan(twin, symbolic_world(twin))
        assert plan[0].startswith(f"place the {held}") and len(plan) == 2


def _relational(per_construction: int = 12):
    tasks = generate_tasks("train", per_construction, seed=0, families=("language",))
    return [t for t in tasks if t.family in RELATIONAL]


def test_relabel_twins_keep_the_words_and_change_the_plan():
    rng, twins = random.Random(0), 0
    for task in _relational():
        twin = relabel_twin(task, rng)
        if twin is None:
            continue
        twins += 1
        assert twin.instruction == task.instruction and twin.all_objects == task.all_objects
        state = symbolic_world(twin)
        assert all_hold(twin.initial, state)
        for skill in oracle_plan(twin, state):
            state = apply_skill(state, skill)
        assert all_hold(twin.goal, state)
        assert oracle_plan(twin, symbolic_world(twin)) != oracle_plan(task, symbolic_world(task))
    assert twins > 30


def test_relabel_twins_never_trade_a_named_block():
    rng = random.Random(1)
    for task in _relational():
        twin = relabel_twin(task, rng)
        if twin is None:
            continue
        moved = {a for p, q in zip(task.goal, twin.goal) for a, b in zip(p.args, q.args) if a != b}
        moved |= {
            a for p, q in zip(task.initial, twin.initial) for a, b in zip(p.args, q.args) if a != b
        }
        for block in moved:  # "the block in the red bowl" names the bowl, never the block
            assert block.split()[0] not in task.instruction, (task, twin)


def test_a_place_reference_twin_moves_the_block_now_at_that_place():
    rng = random.Random(2)
    tasks = [t for t in _relational(20) if t.family == "language.place_ref"]
    pairs = [(t, w) for t in tasks if (w := relabel_twin(t, rng))]
    assert pairs
    for task, twin in pairs:
        place = next(p.args[1] for p in task.initial if p.args[0] == task.goal[0].args[0])
        at_place = next(p.args[0] for p in twin.initial if p.args[1:] == (place,))
        assert twin.goal[0].args[0] == at_place != task.goal[0].args[0]


def test_only_relational_constructions_get_relabel_twins():
    rng = random.Random(0)
    tasks = generate_tasks("train", 10, seed=0, families=("structured", "language"))
    others = [t for t in tasks if t.family not in RELATIONAL]
    assert others and all(relabel_twin(t, rng) is None for t in others)


def test_relabel_twins_are_opt_in_and_add_episodes():
    small = {"tasks_per_family": 3, "family_weights": {"language": 2}, "p_failure": 0.0}
    off, on = (build_corpus(LMTrainConfig(**small, relabel_twins=x)) for x in (False, True))
    assert len(on) > len(off)
    assert [text for text, _ in off] == [text for text, _ in on][: len(off)]
