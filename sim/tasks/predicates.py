"""Goal predicates: their text form, argument checks and evaluation on a :class:`WorldState`.

A predicate is written like ``in(red block, blue bowl)`` or ``not(on(red block, green block))``.
Object names are ``<colour> <type>`` (``COLORS`` x ``OBJECT_TYPES``); places and areas are the
keys of ``TABLETOP_PLACES`` / ``MOBILE_AREAS``. Evaluation thresholds are in metres and follow
``sim.geometry`` (block position = cube centre; bowl position = centre of its floor's top).
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Collection
from dataclasses import dataclass

from sim.geometry import (
    BLOCK_SIZE,
    BOWL_INNER_RADIUS,
    COLORS,
    OBJECT_TYPES,
    PLACE_RADIUS,
    ObjectState,
    WorldState,
)

# Argument kinds per predicate: "block", "bowl", "object" (either), "location" (place or area),
# "area". ``not`` takes one predicate instead of names.
PREDICATE_ARGS: dict[str, tuple[str, ...]] = {
    "in": ("block", "bowl"),
    "on": ("block", "block"),
    "at": ("object", "location"),
    "holding": ("block",),
    "robot_at": ("area",),
}
PREDICATE_NAMES = (*PREDICATE_ARGS, "not")

IN_MAX_HEIGHT = 2.5 * BLOCK_SIZE  # in(): block centre at most this far above the bowl floor
ON_MAX_OFFSET = 0.6 * BLOCK_SIZE  # on(): max |dx|, |dy| between the two block centres
ON_MIN_HEIGHT = 0.7 * BLOCK_SIZE  # on(): range of the upper centre's height above the lower's
ON_MAX_HEIGHT = 1.3 * BLOCK_SIZE

_CALL = re.compile(r"^([a-z_]+)\s*\((.*)\)$")
MAX_PREDICATE_CHARS = 300  # the longest real one is under 80
_short = reprlib.Repr()
_short.maxstring = 80


@dataclass(frozen=True)
class Predicate:
    """A predicate: ``name`` with name arguments ``args``, or ``not`` wrapping ``inner``."""

    name: str
    args: tuple[str, ...] = ()
    inner: Predicate | None = None

    def __str__(self) -> str:
        if self.name == "not":
            return f"not({self.inner})"
        return f"{self.name}({', '.join(self.args)})"

    @property
    def negated(self) -> bool:
        return self.name == "not"

    @property
    def positive(self) -> Predicate:
        """The predicate without its ``not`` (itself when not negated)."""
        return self.inner if self.inner is not None else self

    @property
    def objects(self) -> tuple[str, ...]:
        """The object names among the arguments (not places, areas or the robot's location)."""
        pred = self.positive
        kinds = PREDICATE_ARGS[pred.name]
        return tuple(a for a, k in zip(pred.args, kinds) if k in ("block", "bowl", "object"))


def normalize_name(text: str) -> str:
    """Lowercase ``text`` and collapse whitespace to single spaces."""
    return " ".join(text.lower().split())


def split_top_level(text: str) -> list[str]:
    """Split ``text`` at commas outside parentheses (ValueError if parentheses don't match)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced parentheses in {_short.repr(text)}")
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        raise ValueError(f"unbalanced parentheses in {_short.repr(text)}")
    parts.append(text[start:])
    return parts


def parse_predicate(text: str) -> Predicate:
    """Parse e.g. ``"not(in(Red  Block, blue bowl))"``; checks the name and arity only."""
    if not isinstance(text, str):
        raise ValueError(
            f"predicate must be text like 'in(red block, blue bowl)', got {_short.repr(text)}"
        )
    if len(text) > MAX_PREDICATE_CHARS:
        raise ValueError(
            f"predicate {_short.repr(text)} is {len(text)} characters; at most "
            f"{MAX_PREDICATE_CHARS}"
        )
    norm = normalize_name(text)
    match = _CALL.match(norm)
    if not match:
        raise ValueError(
            f"cannot parse predicate {text!r} (expected e.g. 'in(red block, blue bowl)')"
        )
    name, body = match.groups()
    if name not in PREDICATE_NAMES:
        raise ValueError(
            f"unknown predicate {name!r} in {text!r} (predicates: {', '.join(PREDICATE_NAMES)})"
        )
    args = [normalize_name(a) for a in split_top_level(body)]
    if name == "not":
        return _parse_not(text, args)
    kinds = PREDICATE_ARGS[name]
    if len(args) != len(kinds) or not all(args):
        raise ValueError(
            f"wrong number of arguments in {text!r}: {name} takes {len(kinds)} ({', '.join(kinds)})"
        )
    return Predicate(name, tuple(args))


def _parse_not(text: str, args: list[str]) -> Predicate:
    if len(args) != 1 or not args[0]:
        raise ValueError(f"wrong number of arguments in {text!r}: not takes 1 predicate")
    inner_call = _CALL.match(args[0])
    if inner_call and inner_call.group(1) == "not":  # refused before any recursion
        raise ValueError(f"nested not in {text!r}; write the predicate itself")
    return Predicate("not", inner=parse_predicate(args[0]))


def object_type(name: str) -> str:
    """The type (``block``/``bowl``) of object ``name``; ValueError naming the bad word."""
    words = name.split()
    colours = ", ".join(COLORS)
    if len(words) == 2 and words[1] in OBJECT_TYPES:
        if words[0] not in COLORS:
            raise ValueError(f"unknown colour {words[0]!r} in {name!r} (colours: {colours})")
        return words[1]
    if len(words) == 2 and words[0] in COLORS:
        raise ValueError(
            f"unknown object type {words[1]!r} in {name!r} (types: {', '.join(OBJECT_TYPES)})"
        )
    raise ValueError(
        f"unknown object {name!r} (objects are '<colour> <type>', colours: {colours}; "
        f"types: {', '.join(OBJECT_TYPES)})"
    )


def check_predicate(pred: Predicate, places: Collection[str], areas: Collection[str]) -> None:
    """Check argument kinds against a scene's ``places`` and ``areas`` (ValueError if wrong)."""
    if pred.negated:
        check_predicate(pred.inner, places, areas)
        return
    for position, (arg, kind) in enumerate(zip(pred.args, PREDICATE_ARGS[pred.name])):
        _check_arg(pred, position, arg, kind, places, areas)


def _check_arg(pred, position, arg, kind, places, areas) -> None:
    ordinal = ("first", "second")[position]
    if kind == "location":
        _check_location(pred, arg, places, areas)
    elif kind == "area":
        if not areas:
            raise ValueError(f"{pred} needs the mobile scene (areas exist only there)")
        if arg not in areas:
            raise ValueError(f"unknown area {arg!r} in {pred} (areas: {', '.join(areas)})")
    elif kind in ("block", "bowl"):
        actual = object_type(arg)
        if actual != kind:
            if pred.name == "on" and actual == "bowl":
                raise ValueError(
                    f"{pred}: {arg!r} is a bowl; use in({pred.args[0]}, {arg}) for a block "
                    "in a bowl"
                )
            raise ValueError(f"{pred}: {ordinal} argument must be a {kind}, got {arg!r}")
    else:
        object_type(arg)


def _check_location(pred, arg, places, areas) -> None:
    if arg in places or arg in areas:
        return
    if places:
        raise ValueError(f"unknown place {arg!r} in {pred} (places: {', '.join(places)})")
    raise ValueError(f"unknown area {arg!r} in {pred} (areas: {', '.join(areas)})")


def evaluate(pred: Predicate, state: WorldState) -> bool:
    """Whether ``pred`` holds in ``state``; ValueError if it names an object not in the state."""
    if pred.negated:
        return not evaluate(pred.inner, state)
    for name in pred.objects:
        _get(state, name)
    return _EVALUATORS[pred.name](state, *pred.args)


def _get(state: WorldState, name: str) -> ObjectState:
    if name not in state.objects:
        known = ", ".join(sorted(state.objects)) or "none"
        raise ValueError(f"object {name!r} is not in the world state (objects: {known})")
    return state.objects[name]


def _xy_distance(a: ObjectState, b: tuple[float, ...]) -> float:
    return math.hypot(a.position[0] - b[0], a.position[1] - b[1])


def _in(state: WorldState, block: str, bowl: str) -> bool:
    a, b = state.objects[block], state.objects[bowl]
    height = a.position[2] - b.position[2]
    return (
        state.held != block
        and _xy_distance(a, b.position) <= BOWL_INNER_RADIUS
        and 0.0 <= height <= IN_MAX_HEIGHT
    )


def _on(state: WorldState, upper: str, lower: str) -> bool:
    a, b = state.objects[upper].position, state.objects[lower].position
    return (
        state.held != upper
        and abs(a[0] - b[0]) <= ON_MAX_OFFSET
        and abs(a[1] - b[1]) <= ON_MAX_OFFSET
        and ON_MIN_HEIGHT <= a[2] - b[2] <= ON_MAX_HEIGHT
    )


def _at(state: WorldState, obj: str, location: str) -> bool:
    if state.held == obj:
        return False
    x, y = state.objects[obj].position[:2]
    if location in state.places:
        return _xy_distance(state.objects[obj], state.places[location]) <= PLACE_RADIUS
    if location in state.areas:
        return state.areas[location].contains(x, y)
    raise ValueError(f"unknown place or area {location!r} in at({obj}, {location})")


def _holding(state: WorldState, block: str) -> bool:
    return state.held == block


def _robot_at(state: WorldState, area: str) -> bool:
    return state.robot_location == area


_EVALUATORS = {"in": _in, "on": _on, "at": _at, "holding": _holding, "robot_at": _robot_at}


def all_hold(preds: Collection[Predicate], state: WorldState) -> bool:
    """Whether every predicate in ``preds`` holds in ``state`` (e.g. a task's goal)."""
    return all(evaluate(p, state) for p in preds)
