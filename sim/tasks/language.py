"""The richer task language: one task maker per construction (the ``language`` suite).

Each construction is a way people say things that the other suites never do: other words and
descriptions for objects and places, negation and exclusion, quantifiers, orderings,
references by relation, swaps and rearrangements, returns, clearing and emptying. Every task
still has a goal the simulator checks (conjunctions of ``in``/``on``/``at``/``holding``/
``robot_at`` and ``not``); the phrases live in :mod:`sim.tasks.paraphrase_language`. The
makers that name or refer to an object (other words, descriptions, references by relation)
and the shared noun-phrase helpers are in :mod:`sim.tasks.language_references`; the rest
are here.

:data:`HELD_OUT_CONSTRUCTIONS` names whole constructions that a planner's training corpus
never shows (one ordering, one exclusion, one reference), so an evaluation can ask how a
planner does on a construction it has never seen, not only on unseen words.
"""

from __future__ import annotations

import random

from sim.tasks import paraphrase as para
from sim.tasks import paraphrase_language as lang
from sim.tasks.building import (
    AREAS,
    PLACES,
    Maker,
    goal_text,
    make_task,
    names,
    say,
    tabletop,
)
from sim.tasks.language_references import (
    clause,
    colour_word,
    container_ref,
    descriptions,
    excluded_phrase,
    held_ref,
    only_one,
    place_ref,
    place_words,
    placement,
    side_ref,
    synonyms,
)
from sim.tasks.spec import TaskSpec

# ---------------------------------------------------------------------------------------------
# Quantifiers


def _scattered(rng: random.Random, blocks, bowls, target: str) -> list[str]:
    """A start where some blocks already sit in the target, another bowl or on a block."""
    initial, roll = [], rng.random()
    others = [b for b in bowls if b != target]
    if roll < 0.2:
        initial.append(f"in({blocks[-1]}, {target})")
    elif roll < 0.4 and others:
        initial.append(f"in({blocks[-1]}, {rng.choice(others)})")
    elif roll < 0.6 and len(blocks) > 1:
        initial.append(f"on({blocks[-1]}, {blocks[0]})")
    return initial


def all_into(rng: random.Random) -> TaskSpec:
    """Every block (all, every, each, both) into one bowl."""
    blocks, bowls = tabletop(rng, blocks=(2, 3), bowls=(1, 3))
    bowl = rng.choice(bowls)
    table = lang.BOTH_INTO if len(blocks) == 2 and rng.random() < 0.5 else lang.ALL_INTO
    text = rng.choice(table).format(bowl=bowl)
    goal = [f"in({b}, {bowl})" for b in blocks]
    return make_task(text, goal, blocks + bowls, _scattered(rng, blocks, bowls, bowl))


def all_to_area(rng: random.Random) -> TaskSpec:
    """Mobile: every block to one area."""
    dest = rng.choice(AREAS)
    blocks = names(rng, "block", rng.randint(2, 3))
    bowls = names(rng, "bowl", rng.randint(0, 1))
    starts = [next(a for a in AREAS if a != dest)] + [rng.choice(AREAS) for _ in blocks[1:]]
    initial = [f"at({b}, {a})" for b, a in zip(blocks, starts)]
    initial += [f"at({b}, {rng.choice(AREAS)})" for b in bowls]
    if rng.random() < 0.5:
        initial.append(f"robot_at({rng.choice(AREAS)})")
    text = rng.choice(lang.ALL_TO_AREA).format(area=rng.choice((dest, *para.AREA_SYNONYMS[dest])))
    goal = [f"at({b}, {dest})" for b in blocks]
    return make_task(text, goal, blocks + bowls, initial, scene="mobile")


def the_other(rng: random.Random) -> TaskSpec:
    """Two blocks, two bowls: this one in that bowl, the other one in the other bowl. Nothing
    else of either kind: with a third bowl, "the other bowl" could be either of two."""
    blocks, bowls = names(rng, "block", 2), names(rng, "bowl", 2)
    first = say(rng, "in", blocks[0], bowls[0])
    text = rng.choice(lang.THE_OTHER).format(first)
    initial = [f"in({blocks[1]}, {bowls[0]})"] if rng.random() < 0.25 else []
    goal = [f"in({blocks[0]}, {bowls[0]})", f"in({blocks[1]}, {bowls[1]})"]
    return make_task(text, goal, blocks + bowls, initial)


def the_rest(rng: random.Random) -> TaskSpec:
    """One block somewhere, the rest of the blocks in a bowl."""
    blocks, bowls = tabletop(rng, blocks=(3, 4), bowls=(1, 3))
    bowl, obj = bowls[0], blocks[0]
    kind, target = placement(rng, obj, blocks, bowls[1:], kinds=("in", "at"))
    text = rng.choice(lang.THE_REST).format(clause(rng, kind, obj, target), bowl=bowl)
    goal = [goal_text(kind, obj, target)] + [f"in({b}, {bowl})" for b in blocks[1:]]
    return make_task(text, goal, blocks + bowls)


# ---------------------------------------------------------------------------------------------
# Negation and exclusion


def _exclusion(table: str):
    """Every block but one into a bowl, worded with phrase table ``table`` (read when a task
    is made, so a corpus can swap the table for a split of it)."""

    def make(rng: random.Random) -> TaskSpec:
        blocks, bowls = tabletop(rng, blocks=(3, 4), bowls=(1, 3))
        bowl, excluded = bowls[0], blocks[-1]
        movers = blocks[:-1]
        words = getattr(lang, table)
        text = rng.choice(words).format(excluded=excluded_phrase(rng, excluded), bowl=bowl)
        goal = [f"in({b}, {bowl})" for b in movers] + [f"not(in({excluded}, {bowl}))"]
        initial = _scattered(rng, movers, bowls, bowl)
        return make_task(text, goal, blocks + bowls, initial)

    return make


except_for = _exclusion("EXCEPT")
except_for.__doc__ = "Every block but one into a bowl (except, but, other than)."
leave_out = _exclusion("LEAVE_OUT")
leave_out.__doc__ = "Every block into a bowl, and a clause of its own leaves one out."


def not_that_bowl(rng: random.Random) -> TaskSpec:
    """Two bowls: into the one that is not the named one."""
    blocks = names(rng, "block", rng.randint(1, 4))
    bowls = names(rng, "bowl", 2)
    obj, excluded, target = blocks[0], bowls[0], bowls[1]
    colour = colour_word(rng, excluded.split()[0])
    text = rng.choice(lang.NOT_THAT_BOWL).format(obj=obj, bowl=excluded, colour=colour)
    initial = [f"in({obj}, {excluded})"] if rng.random() < 0.3 else []
    return make_task(text, [f"in({obj}, {target})"], blocks + bowls, initial)


def negated_goal(rng: random.Random) -> TaskSpec:
    """A block that must no longer be in a bowl or on another block."""
    blocks, bowls = tabletop(rng, blocks=(2, 4), bowls=(1, 3))
    obj = blocks[0]
    if rng.random() < 0.5:
        bowl = rng.choice(bowls)
        text = rng.choice(lang.NOT_IN).format(obj=obj, bowl=bowl)
        return make_task(text, [f"not(in({obj}, {bowl}))"], blocks + bowls, [f"in({obj}, {bowl})"])
    under = blocks[1]
    text = rng.choice(lang.NOT_ON).format(obj=obj, target=under)
    return make_task(text, [f"not(on({obj}, {under}))"], blocks + bowls, [f"on({obj}, {under})"])


# ---------------------------------------------------------------------------------------------
# Orderings


def _steps(rng: random.Random, count: int, stack: bool):
    """(goals, clauses, objects) of ``count`` steps: a stack built upwards, or each step
    moving another block to a bowl or a place."""
    if stack:
        blocks, bowls = tabletop(rng, blocks=(count + 1, 4), bowls=(0, 3))
        pairs = list(zip(blocks[1 : count + 1], blocks[:count]))
        goals = [f"on({upper}, {lower})" for upper, lower in pairs]
        clauses = [say(rng, "on", upper, lower) for upper, lower in pairs]
        return goals, clauses, blocks + bowls
    blocks, bowls = tabletop(rng, blocks=(count, 4), bowls=(1, 3))
    places = rng.sample(PLACES, count)
    goals, clauses = [], []
    for i, block in enumerate(blocks[:count]):
        kind = rng.choice(("in", "at"))
        target = rng.choice(bowls) if kind == "in" else places[i]
        goals.append(goal_text(kind, block, target))
        clauses.append(clause(rng, kind, block, target))
    return goals, clauses, blocks + bowls


def sequence(rng: random.Random) -> TaskSpec:
    """Steps in the order they are said (and after that, lastly, ...), or pick-and-place
    with a pronoun."""
    if rng.random() < 0.35:
        blocks, bowls = tabletop(rng, blocks=(1, 4), bowls=(1, 4))
        kind, target = placement(rng, blocks[0], blocks, bowls)
        words = {"in": "in the {}", "on": "on the {}", "at": "at the {}"}[kind].format(
            place_words(rng, target) if kind == "at" else target
        )
        text = rng.choice(lang.PICK_AND_PLACE).format(obj=blocks[0], where=words)
        return make_task(text, [goal_text(kind, blocks[0], target)], blocks + bowls)
    count = rng.choice((2, 3))
    goals, clauses, objects = _steps(rng, count, stack=rng.random() < 0.3)
    return make_task(rng.choice(lang.SEQUENCE[count]).format(*clauses), goals, objects)


def but_first(rng: random.Random) -> TaskSpec:
    """Two steps, the later one said first (but first, before you, after you)."""
    goals, clauses, objects = _steps(rng, 2, stack=rng.random() < 0.5)
    return make_task(rng.choice(lang.BUT_FIRST).format(*clauses), goals, objects)


def _tower(rng: random.Random, count: int) -> tuple[list[str], list[str], list[str]]:
    blocks, bowls = tabletop(rng, blocks=(count, 4), bowls=(0, 3))
    tower = blocks[:count]  # bottom first
    goal = [f"on({upper}, {lower})" for lower, upper in zip(tower, tower[1:])]
    return tower, goal, blocks + bowls


def _listing(tower: list[str]) -> str:
    return ", ".join(f"the {b}" for b in tower[:-1]) + f" and the {tower[-1]}"


def tower_bottom_up(rng: random.Random) -> TaskSpec:
    """A tower listed from the bottom, or by levels (at the bottom, in the middle, on top)."""
    tower, goal, objects = _tower(rng, rng.choice((3, 3, 4)))
    if len(tower) == 3 and rng.random() < 0.4:
        bottom, middle, top = tower
        text = rng.choice(lang.TOWER_ROLES).format(bottom=bottom, middle=middle, top=top)
    else:
        text = rng.choice(lang.TOWER_UP).format(sequence=_listing(tower))
    return make_task(text, goal, objects)


def tower_top_down(rng: random.Random) -> TaskSpec:
    """A tower listed from the top."""
    tower, goal, objects = _tower(rng, rng.choice((3, 3, 4)))
    text = rng.choice(lang.TOWER_DOWN).format(sequence=_listing(tower[::-1]))
    return make_task(text, goal, objects)


# ---------------------------------------------------------------------------------------------
# Swaps, rearrangements, returns, clearing


def swap(rng: random.Random) -> TaskSpec:
    """Two blocks change bowls, or change places."""
    blocks, bowls = tabletop(rng, blocks=(2, 4), bowls=(2, 3))
    a, b = blocks[:2]
    if rng.random() < 0.5:
        b1, b2 = bowls[:2]
        text = rng.choice(lang.SWAP_BOWLS).format(bowl=b1, bowl2=b2)
        initial = [f"in({a}, {b1})", f"in({b}, {b2})"]
        goal = [f"in({a}, {b2})", f"in({b}, {b1})"]
        return make_task(text, goal, blocks + bowls, initial)
    p1, p2 = rng.sample(PLACES, 2)
    text = rng.choice(lang.SWAP_PLACES).format(obj=a, obj2=b)
    goal = [f"at({a}, {p2})", f"at({b}, {p1})"]
    return make_task(text, goal, blocks + bowls, [f"at({a}, {p1})", f"at({b}, {p2})"])


def transfer(rng: random.Random) -> TaskSpec:
    """Every block of one bowl into another."""
    blocks, bowls = tabletop(rng, blocks=(1, 4), bowls=(2, 4))
    src, dest = bowls[:2]
    moved = blocks[: rng.randint(1, min(3, len(blocks)))]
    text = rng.choice(lang.TRANSFER).format(bowl=src, bowl2=dest)
    initial = [f"in({b}, {src})" for b in moved]
    goal = [f"in({b}, {dest})" for b in moved]
    return make_task(text, goal, blocks + bowls, initial)


def empty_onto(rng: random.Random) -> TaskSpec:
    """Empty a bowl onto a named place (one block in it) or, mobile, onto the other area."""
    if rng.random() < 0.5:
        blocks, bowls = tabletop(rng, blocks=(1, 4), bowls=(1, 3))
        place = rng.choice(PLACES)
        text = rng.choice(lang.EMPTY_ONTO).format(bowl=bowls[0], target=place_words(rng, place))
        initial = [f"in({blocks[0]}, {bowls[0]})"]
        return make_task(text, [f"at({blocks[0]}, {place})"], blocks + bowls, initial)
    source, dest = rng.sample(AREAS, 2)
    blocks, bowl = names(rng, "block", rng.randint(1, 3)), names(rng, "bowl", 1)[0]
    inside = blocks[: rng.randint(1, min(2, len(blocks)))]
    initial = [f"at({bowl}, {source})"] + [f"in({b}, {bowl})" for b in inside]
    initial += [f"at({b}, {rng.choice(AREAS)})" for b in blocks[len(inside) :]]
    text = rng.choice(lang.EMPTY_ONTO).format(bowl=bowl, target=dest)
    goal = [f"at({b}, {dest})" for b in inside]
    return make_task(text, goal, blocks + [bowl], initial, scene="mobile")


def clear_block(rng: random.Random) -> TaskSpec:
    """Nothing may stay on a block (one or two blocks rest on it)."""
    blocks, bowls = tabletop(rng, blocks=(2, 4), bowls=(0, 3))
    under, upper = blocks[:2]
    initial = [f"on({upper}, {under})"]
    if len(blocks) > 2 and rng.random() < 0.3:
        initial.append(f"on({blocks[2]}, {upper})")
    text = rng.choice(lang.CLEAR_BLOCK).format(block=under)
    return make_task(text, [f"not(on({upper}, {under}))"], blocks + bowls, initial)


def back_to(rng: random.Random) -> TaskSpec:
    """``back``: a block returns to an area (mobile) or into a bowl (tabletop)."""
    if rng.random() < 0.5:
        source, dest = rng.sample(AREAS, 2)
        blocks = names(rng, "block", rng.randint(1, 3))
        obj = blocks[0]
        initial = [f"at({obj}, {source})"] + [f"at({b}, {rng.choice(AREAS)})" for b in blocks[1:]]
        words = rng.choice((dest, *para.AREA_SYNONYMS[dest]))
        text = rng.choice(lang.BACK_TO_AREA).format(obj=obj, area=words)
        goal = [f"at({obj}, {dest})"]
        if rng.random() < 0.3:
            end = rng.choice(AREAS)
            goal.append(f"robot_at({end})")
            text += rng.choice(para.RETURN_SUFFIXES).format(area=end)
        return make_task(text, goal, blocks, initial, scene="mobile")
    blocks, bowls = tabletop(rng, blocks=(1, 4), bowls=(1, 3))
    obj, bowl = blocks[0], bowls[0]
    initial = [f"holding({obj})"] if rng.random() < 0.5 else [f"at({obj}, {rng.choice(PLACES)})"]
    text = rng.choice(lang.BACK_INTO).format(obj=obj, bowl=bowl)
    return make_task(text, [f"in({obj}, {bowl})"], blocks + bowls, initial)


def go_to(rng: random.Random) -> TaskSpec:
    """Mobile: the robot goes to the other area, and sometimes picks up a block there."""
    source, dest = rng.sample(AREAS, 2)
    blocks = names(rng, "block", rng.randint(1, 3))
    bowls = names(rng, "bowl", rng.randint(0, 1))
    initial = [f"robot_at({source})", f"at({blocks[0]}, {dest})"]
    initial += [f"at({o}, {rng.choice(AREAS)})" for o in blocks[1:] + bowls]
    words = rng.choice((dest, *para.AREA_SYNONYMS[dest]))
    text = rng.choice(lang.GO_TO).format(area=words)
    goal = [f"robot_at({dest})"]
    if rng.random() < 0.4:
        text = rng.choice(lang.GO_AND).format(text, say(rng, "pick", blocks[0], None))
        goal.append(f"holding({blocks[0]})")
    return make_task(text, goal, blocks + bowls, initial, scene="mobile")


CONSTRUCTIONS: dict[str, Maker] = {
    "synonyms": synonyms,
    "descriptions": descriptions,
    "only_one": only_one,
    "all_into": all_into,
    "all_to_area": all_to_area,
    "the_other": the_other,
    "the_rest": the_rest,
    "except_for": except_for,
    "leave_out": leave_out,
    "not_that_bowl": not_that_bowl,
    "negated_goal": negated_goal,
    "sequence": sequence,
    "but_first": but_first,
    "tower_bottom_up": tower_bottom_up,
    "tower_top_down": tower_top_down,
    "held_ref": held_ref,
    "container_ref": container_ref,
    "place_ref": place_ref,
    "side_ref": side_ref,
    "swap": swap,
    "transfer": transfer,
    "empty_onto": empty_onto,
    "clear_block": clear_block,
    "back_to": back_to,
    "go_to": go_to,
}
# Never in a planner's training corpus: one ordering, one exclusion, one reference.
HELD_OUT_CONSTRUCTIONS = ("but_first", "leave_out", "side_ref")
