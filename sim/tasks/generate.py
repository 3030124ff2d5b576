"""Generate the built-in task suites: ``python -m sim.tasks.generate [--check] [--out DIR]``.

Writes ``sim/tasks/suites/<suite>.yaml`` for every suite in ``BUILTIN_SUITES``. Output is
deterministic (one ``random.Random`` per suite, seeded from ``SEED`` and the suite name) and
every generated task goes through the task parser. ``--check`` only compares with the files.
Families follow SayCan's: single skills, noun and verb paraphrases, structured multi-step
language, embodiment (the plan depends on the state), long horizon and mobile manipulation;
``language`` holds the richer task language of :mod:`sim.tasks.language`, three tasks of each
construction.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

from sim.skill_text import skill_text
from sim.tasks import paraphrase as para
from sim.tasks.building import (
    AREAS,
    COLOURS,
    PLACES,
    Maker,
    goal_text,
    make_task,
    names,
    noun,
    other_verbs,
    say,
    setup,
    tabletop,
)
from sim.tasks.language import CONSTRUCTIONS
from sim.tasks.spec import BUILTIN_SUITES, TaskSpec, dump_tasks

SEED = 20240611
SUITE_SIZE = 60
SUITES_DIR = Path(__file__).parent / "suites"
MAX_ATTEMPTS = 50  # draws per missing task before giving up on distinctness


# ---------------------------------------------------------------------------------------------
# Families


def _single(kind: str) -> Maker:
    """Exactly one skill; the instruction is the canonical skill text."""

    def make(rng: random.Random) -> TaskSpec:
        obj, target, blocks, bowls = setup(rng, kind)
        if kind == "pick":
            return make_task(skill_text("pick", obj), [goal_text(kind, obj)], blocks + bowls)
        text = skill_text(f"place_{kind}", obj, target)
        return make_task(text, [goal_text(kind, obj, target)], blocks + bowls, [f"holding({obj})"])

    return make


def _nouns(kind: str) -> Maker:
    """Plain verbs, other words for colours, object types and places."""

    def make(rng: random.Random) -> TaskSpec:
        obj, target, blocks, bowls = setup(rng, kind)
        while True:
            obj_words = noun(rng, obj, 0.6)
            if kind == "at":
                target_words = rng.choice((target, *para.PLACE_SYNONYMS[target]))
            else:
                target_words = noun(rng, target, 0.6) if target else None
            if (obj_words, target_words) != (obj, target):
                break
        text = say(rng, kind, obj_words, target_words, para.VERB_TEMPLATES[kind][:2])
        return make_task(text, [goal_text(kind, obj, target)], blocks + bowls)

    return make


def _verbs(kind: str) -> Maker:
    """Other verbs than the skill texts', canonical nouns; sometimes the block is held."""

    def make(rng: random.Random) -> TaskSpec:
        obj, target, blocks, bowls = setup(rng, kind)
        text = say(rng, kind, obj, target, other_verbs(kind))
        initial = [f"holding({obj})"] if kind != "pick" and rng.random() < 0.3 else []
        return make_task(text, [goal_text(kind, obj, target)], blocks + bowls, initial)

    return make


def _structured(rng: random.Random) -> TaskSpec:
    """2-3 named steps, each moving a different block; stack targets are not moved later."""
    steps = rng.choice((2, 3))
    blocks, bowls = tabletop(rng, blocks=(steps, 4), bowls=(1, 3))
    movers = rng.sample(blocks, steps)
    places = rng.sample(PLACES, steps)
    goals, phrases, on_targets = [], [], set()
    for i, mover in enumerate(movers):
        later = set(movers[i + 1 :])
        targets = [b for b in blocks if b != mover and b not in later and b not in on_targets]
        kind = rng.choice(("in", "at", "on") if targets else ("in", "at"))
        target = {"in": rng.choice(bowls), "at": places[i]}.get(kind)
        if kind == "on":
            target = rng.choice(targets)
            on_targets.add(target)
        goals.append(goal_text(kind, mover, target))
        phrases.append(say(rng, kind, mover, target))
    text = rng.choice(para.STEP_CONNECTORS[steps]).format(*phrases)
    return make_task(text, goals, blocks + bowls)


def _embodiment(case: str) -> Maker:
    """The right plan depends on the state (see ``_EMBODIMENT_CASES``)."""

    def make(rng: random.Random) -> TaskSpec:
        kinds = (
            ("pick", "in", "on", "at")
            if case in ("holding_other", "buried")
            else ("in", "on", "at")
        )
        kind = rng.choice(kinds)
        obj, target, blocks, bowls = setup(rng, kind, extra_blocks=1)
        others = [b for b in blocks if b not in (obj, target)]
        goal = goal_text(kind, obj, target)
        if case == "satisfied":
            initial = [goal]
        elif case == "holding_target":
            initial = [f"holding({obj})"]
        elif case == "holding_other":
            initial = [f"holding({rng.choice(others)})"]
        else:  # buried: another block sits on the one to move
            top = rng.choice([b for b in blocks if b != obj])
            initial = [f"on({top}, {obj})"]
        return make_task(say(rng, kind, obj, target), [goal], blocks + bowls, initial)

    return make


def _other_bowl(rng: random.Random) -> TaskSpec:
    """The block already sits in another bowl."""
    blocks, bowls = tabletop(rng, blocks=(1, 4), bowls=(2, 4))
    obj, target, current = blocks[0], bowls[0], bowls[1]
    text = say(rng, "in", obj, target)
    return make_task(
        text, [goal_text("in", obj, target)], blocks + bowls, [f"in({obj}, {current})"]
    )


def _sort(rng: random.Random) -> TaskSpec:
    """Every block into the bowl of its colour (3-4 pairs), sometimes one in a wrong bowl."""
    colours = rng.sample(COLOURS, rng.choice((3, 4)))
    blocks = [f"{c} block" for c in colours]
    bowls = [f"{c} bowl" for c in colours]
    if len(colours) == 3 and rng.random() < 0.5:
        bowls += names(rng, "bowl", 1, exclude=bowls)
    initial = []
    if rng.random() < 0.4:
        block = rng.choice(blocks)
        wrong = [b for b in bowls if b.split()[0] != block.split()[0]]
        initial = [f"in({block}, {rng.choice(wrong)})"]
    goal = [f"in({c} block, {c} bowl)" for c in colours]
    return make_task(rng.choice(para.SORT_INSTRUCTIONS), goal, blocks + bowls, initial)


def _stack(rng: random.Random) -> TaskSpec:
    """One tower of all 3-4 blocks in a given order (goal: a chain of on())."""
    blocks, bowls = tabletop(rng, blocks=(3, 4), bowls=(0, 3))
    goal = [f"on({upper}, {lower})" for lower, upper in zip(blocks, blocks[1:])]
    sequence = ", ".join(f"the {b}" for b in blocks[:-1]) + f" and the {blocks[-1]}"
    text = rng.choice(para.STACK_INSTRUCTIONS).format(sequence=sequence)
    return make_task(text, goal, blocks + bowls)


def _clear(rng: random.Random) -> TaskSpec:
    """Take the 2-3 blocks out of a bowl (goal: not(in()) for each)."""
    inside = names(rng, "block", rng.choice((2, 3)))
    blocks = inside + names(rng, "block", rng.randint(0, 4 - len(inside)), exclude=inside)
    bowls = names(rng, "bowl", rng.randint(1, 3))
    bowl = bowls[0]
    goal = [f"not(in({b}, {bowl}))" for b in inside]
    text = rng.choice(para.CLEAR_INSTRUCTIONS).format(bowl=bowl)
    return make_task(text, goal, blocks + bowls, [f"in({b}, {bowl})" for b in inside])


def _area_words(rng: random.Random, area: str) -> str:
    return rng.choice((area, area, *para.AREA_SYNONYMS[area]))


def _mobile(into_bowl: bool) -> Maker:
    """Carry a block between areas, onto the other area or into a bowl there."""

    def make(rng: random.Random) -> TaskSpec:
        source, dest = rng.sample(AREAS, 2)
        blocks = names(rng, "block", rng.randint(1, 3))
        bowls = names(rng, "bowl", rng.randint(1 if into_bowl else 0, 2))
        obj = blocks[0]
        initial = [f"at({obj}, {source})"]
        initial += [f"at({b}, {rng.choice(AREAS)})" for b in blocks[1:]]
        bowl_areas = [dest] if into_bowl else []
        bowl_areas += [rng.choice(AREAS) for _ in bowls[len(bowl_areas) :]]
        initial += [f"at({b}, {a})" for b, a in zip(bowls, bowl_areas)]
        robot = rng.choice((None, source, dest))
        initial += [f"robot_at({robot})"] if robot else []
        words = {"obj": obj, "source": _area_words(rng, source), "dest": _area_words(rng, dest)}
        if into_bowl:
            goal = [f"in({obj}, {bowls[0]})"]
            text = rng.choice(para.BRING_INTO_INSTRUCTIONS).format(bowl=bowls[0], **words)
        else:
            goal = [f"at({obj}, {dest})"]
            text = rng.choice(para.BRING_INSTRUCTIONS).format(**words)
        if rng.random() < 0.25:
            end = rng.choice(AREAS)
            goal.append(f"robot_at({end})")
            text += rng.choice(para.RETURN_SUFFIXES).format(area=_area_words(rng, end))
        return make_task(text, goal, blocks + bowls, initial, scene="mobile")

    return make


SUITE_MAKERS: dict[str, tuple[Maker, ...]] = {
    "single": tuple(_single(k) for k in ("pick", "in", "on", "at")),
    "nouns": tuple(_nouns(k) for k in ("pick", "in", "on", "at")),
    "verbs": tuple(_verbs(k) for k in ("pick", "in", "on", "at")),
    "structured": (_structured,),
    "embodiment": (
        _embodiment("satisfied"),
        _embodiment("holding_target"),
        _embodiment("holding_other"),
        _other_bowl,
        _embodiment("buried"),
    ),
    "long_horizon": (_sort, _stack, _clear),
    "mobile": (_mobile(False), _mobile(True)),
    "language": tuple(CONSTRUCTIONS.values()),  # sim.tasks.language, one per construction
}
SUITE_SIZES = {"language": 3 * len(CONSTRUCTIONS)}  # three tasks of each construction


# ---------------------------------------------------------------------------------------------
# Suites and files


def task_key(task: TaskSpec) -> tuple:
    """What makes two tasks the same: instruction, goal, objects and initial (order-free)."""
    return (
        task.instruction,
        frozenset(task.goal),
        frozenset(task.objects or ()),
        frozenset(task.initial),
    )


def generate_suite(name: str, size: int | None = None) -> list[TaskSpec]:
    """``size`` (default: the suite's size) distinct tasks of suite ``name``, the makers
    taking turns."""
    size = size or suite_size(name)
    rng = random.Random(f"{SEED}:{name}")
    makers = SUITE_MAKERS[name]
    tasks: list[TaskSpec] = []
    seen: set[tuple] = set()
    for _ in range(size * MAX_ATTEMPTS):
        if len(tasks) == size:
            break
        task = replace(makers[len(tasks) % len(makers)](rng), family=name)
        if task_key(task) not in seen:
            seen.add(task_key(task))
            tasks.append(task)
    if len(tasks) < size:
        raise RuntimeError(f"suite {name!r}: only {len(tasks)} distinct tasks")
    return tasks


def suite_size(name: str) -> int:
    """Tasks in built-in suite ``name``: ``SUITE_SIZE``, or its entry in ``SUITE_SIZES``."""
    return SUITE_SIZES.get(name, SUITE_SIZE)


def suite_yaml(name: str) -> str:
    """The YAML text of built-in suite ``name`` as committed."""
    header = (
        f"Built-in task suite {name!r}: generated by `python -m sim.tasks.generate`; "
        "do not edit by hand."
    )
    return dump_tasks(generate_suite(name), header=header)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SUITES_DIR, help="output directory")
    parser.add_argument("--check", action="store_true", help="only compare with the files")
    args = parser.parse_args(argv)
    stale = []
    for name in BUILTIN_SUITES:
        path = args.out / f"{name}.yaml"
        text = suite_yaml(name)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
