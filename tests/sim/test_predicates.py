"""Predicate text and evaluation on hand-built world states (sim/tasks/predicates.py)."""

from __future__ import annotations

import pytest

from sim.geometry import (
    BLOCK_SIZE,
    MOBILE_AREAS,
    TABLE_TOP_Z,
    TABLETOP_PLACES,
    ObjectState,
    WorldState,
)
from sim.tasks.predicates import Predicate, all_hold, evaluate, parse_predicate

BOWL_Z = TABLE_TOP_Z + 0.006
BLOCK_Z = TABLE_TOP_Z + BLOCK_SIZE / 2


def world(*objects: tuple[str, float, float, float], **kwargs) -> WorldState:
    """A state from (name, x, y, z) tuples; kind from the name."""
    states = {n: ObjectState(n, n.split()[1], (x, y, z)) for n, x, y, z in objects}
    kwargs.setdefault("places", dict(TABLETOP_PLACES))
    return WorldState(states, **kwargs)


def holds(text: str, state: WorldState) -> bool:
    return evaluate(parse_predicate(text), state)


def test_parse_normalises_and_prints_canonically():
    pred = parse_predicate("  NOT ( In(Red   Block,blue BOWL ) ) ")
    assert pred == Predicate("not", inner=Predicate("in", ("red block", "blue bowl")))
    assert str(pred) == "not(in(red block, blue bowl))"
    assert pred.negated and pred.positive.name == "in"
    assert pred.objects == ("red block", "blue bowl")
    assert parse_predicate("at(red block, top left corner)").objects == ("red block",)
    assert parse_predicate("robot_at(table)").objects == ()


def test_in():
    bowl = ("blue bowl", 0.5, 0.0, BOWL_Z)
    inside = world(bowl, ("red block", 0.52, 0.01, BOWL_Z + BLOCK_SIZE / 2))
    assert holds("in(red block, blue bowl)", inside)
    assert not holds("in(red block, blue bowl)", world(bowl, ("red block", 0.5, 0.07, BLOCK_Z)))
    assert not holds("in(red block, blue bowl)", world(bowl, ("red block", 0.5, 0.0, 0.38)))
    too_high = world(bowl, ("red block", 0.5, 0.0, BOWL_Z + 2.6 * BLOCK_SIZE))
    assert not holds("in(red block, blue bowl)", too_high)
    stacked = world(bowl, ("red block", 0.5, 0.0, BOWL_Z + 1.5 * BLOCK_SIZE))
    assert holds("in(red block, blue bowl)", stacked)
    held = world(bowl, ("red block", 0.5, 0.0, BOWL_Z + 0.02), held="red block")
    assert not holds("in(red block, blue bowl)", held)


def test_on():
    lower = ("green block", 0.5, 0.0, BLOCK_Z)
    assert holds("on(red block, green block)", world(lower, ("red block", 0.51, -0.01, 0.46)))
    assert not holds("on(green block, red block)", world(lower, ("red block", 0.51, 0.0, 0.46)))
    assert not holds("on(red block, green block)", world(lower, ("red block", 0.53, 0.0, 0.46)))
    assert not holds("on(red block, green block)", world(lower, ("red block", 0.5, 0.0, 0.44)))
    assert not holds("on(red block, green block)", world(lower, ("red block", 0.5, 0.0, 0.48)))
    held = world(lower, ("red block", 0.5, 0.0, 0.46), held="red block")
    assert not holds("on(red block, green block)", held)


def test_at_place():
    x, y = TABLETOP_PLACES["top left corner"]
    assert holds("at(red block, top left corner)", world(("red block", x + 0.04, y, BLOCK_Z)))
    assert not holds("at(red block, top left corner)", world(("red block", x, y - 0.07, BLOCK_Z)))
    assert holds("at(blue bowl, top left corner)", world(("blue bowl", x, y, BOWL_Z)))
    held = world(("red block", x, y, BLOCK_Z), held="red block")
    assert not holds("at(red block, top left corner)", held)


def test_at_area_holding_robot_at():
    areas = dict(MOBILE_AREAS)
    state = world(
        ("red block", 0.5, 1.7, BLOCK_Z),
        ("green block", 0.5, 0.1, BLOCK_Z),
        places={},
        areas=areas,
        held="green block",
        robot_location="table",
    )
    assert holds("at(red block, counter)", state)
    assert not holds("at(red block, table)", state)
    assert not holds("at(green block, table)", state)  # held objects are at no area
    assert holds("holding(green block)", state)
    assert not holds("holding(red block)", state)
    assert holds("robot_at(table)", state) and not holds("robot_at(counter)", state)
    assert holds("not(robot_at(counter))", state)
    assert holds("not(holding(red block))", state)
    assert all_hold([parse_predicate("holding(green block)")], state)


def test_missing_object_and_unknown_location():
    state = world(("red block", 0.5, 0.0, BLOCK_Z))
    with pytest.raises(ValueError, match="'blue bowl' is not in the world state"):
        holds("in(red block, blue bowl)", state)
    with pytest.raises(ValueError, match="'green block' is not in the world state"):
        holds("not(holding(green block))", state)
    with pytest.raises(ValueError, match="unknown place or area 'kitchen'"):
        holds("at(red block, kitchen)", state)
