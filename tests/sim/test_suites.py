"""Built-in task suites: generated deterministically, distinct, and solvable by the oracle."""

from __future__ import annotations

from collections import Counter

import pytest

from sim.skill_text import parse_skill
from sim.tasks import BUILTIN_SUITES, all_hold, apply_skill, load_tasks, oracle_plan, symbolic_world
from sim.tasks.generate import generate_suite, suite_size, suite_yaml, task_key
from sim.tasks.language import CONSTRUCTIONS
from sim.tasks.spec import suite_file

MIN_DISTINCT = 50


@pytest.fixture(scope="module", params=BUILTIN_SUITES)
def suite(request) -> tuple[str, list]:
    """(suite name, [(task, oracle plan)]) with each plan checked symbolically."""
    name = request.param
    results = []
    for task in load_tasks(name):
        state = symbolic_world(task)
        assert all_hold(task.initial, state), task
        plan = oracle_plan(task, state)
        for skill in plan:
            state = apply_skill(state, skill)
        assert all_hold(task.goal, state), (task, plan)
        results.append((task, plan))
    return name, results


def test_committed_yaml_matches_generator():
    for name in BUILTIN_SUITES:
        assert suite_file(name).read_text(encoding="utf-8") == suite_yaml(name), (
            f"{name}.yaml is stale: run python -m sim.tasks.generate"
        )


def test_generator_is_deterministic():
    assert generate_suite("structured", 20) == generate_suite("structured", 20)
    assert generate_suite("mobile") == load_tasks("mobile")


def test_suite_size_family_objects(suite):
    name, results = suite
    tasks = [t for t, _ in results]
    assert len({task_key(t) for t in tasks}) == len(tasks) == suite_size(name) >= MIN_DISTINCT
    for task in tasks:
        assert task.family == name
        assert task.objects is not None and set(task.all_objects) == set(task.objects)
        if name != "language":
            assert task.scene == ("mobile" if name == "mobile" else "tabletop")
        for kind in ("block", "bowl"):
            names = [o for o in task.objects if o.endswith(kind)]
            assert len(names) <= 4 or task.scene == "mobile"
            assert len({o.split()[0] for o in names}) == len(names)


def _skills(plan: list[str]) -> list[str]:
    return [parse_skill(s).name for s in plan[:-1]]


def test_family_shapes(suite):
    name, results = suite
    lengths = [len(plan) - 1 for _, plan in results]
    if name == "single":
        assert all(task.instruction == plan[0] and len(plan) == 2 for task, plan in results)
        kinds = Counter(_skills(plan)[0] for _, plan in results)
        assert set(kinds) == {"pick", "place_in", "place_on", "place_at"}
        assert min(kinds.values()) >= 12
    elif name in ("nouns", "verbs"):
        assert set(lengths) == {1, 2}
        canonical = {plan[0] for _, plan in results if len(plan) == 2}
        assert not canonical & {task.instruction for task, _ in results}
    elif name == "structured":
        assert all(len(task.goal) in (2, 3) for task, _ in results)
        assert all(
            task.instruction.count(",") + task.instruction.count(";") >= 1 for task, _ in results
        )
    elif name == "embodiment":
        assert lengths.count(0) >= 10  # already satisfied
        holding = [t for t, _ in results if any(p.name == "holding" for p in t.initial)]
        assert len(holding) >= 20
    elif name == "long_horizon":
        assert min(lengths) >= 4
        kinds = Counter(t.goal[0].name for t, _ in results)
        assert {"in", "on", "not"} == set(kinds)
    elif name == "mobile":
        assert all("go_to" in _skills(plan) for _, plan in results)
        assert any(p.name == "robot_at" for t, _ in results for p in t.initial)
    elif name == "language":  # the constructions take turns: task i is made by maker i mod n
        assert len(results) == 3 * len(CONSTRUCTIONS)
        scenes = Counter(t.scene for t, _ in results)
        assert scenes["mobile"] >= 3 and scenes["tabletop"] >= 50
        negations = [t for t, _ in results if any(p.negated for p in t.goal)]
        assert len(negations) >= 6


def test_nouns_use_synonyms():
    from sim.tasks.paraphrase import COLOR_SYNONYMS, PLACE_SYNONYMS, TYPE_SYNONYMS

    words = {
        w
        for table in (COLOR_SYNONYMS, TYPE_SYNONYMS, PLACE_SYNONYMS)
        for v in table.values()
        for w in v
    }
    for task in load_tasks("nouns"):
        assert any(w in task.instruction for w in words), task.instruction
