"""Goals that need a start of their own: negation, exclusion, clearing, swaps, transfers,
emptying a bowl, returns, "the other" and "the rest", everything to an area, the bowl that is
not the named one, "the only bowl", and blocks referred to by where they are or by their side
(:mod:`sim.tasks.language`'s phrase tables, read backwards as :mod:`sim.tasks.reader` reads
the others).

Each goal needs a start where it does not hold yet: the block to take out of a bowl starts in
it, the bowl to empty holds a block, the blocks to swap stand where the other should go, the
block "you are holding" is in the hand. Objects the instruction does not name ("swap the
blocks in the red bowl and the blue bowl") are added in colours it does not use
(:attr:`Reading.extra`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from sim.geometry import COLORS, MOBILE_AREAS, TABLETOP_PLACES
from sim.tasks import paraphrase_language as lang
from sim.tasks.language_references import OPPOSITE, SIDE_PLACES
from sim.tasks.reader import (
    COLOUR_WORDS,
    PLACE_WORDS,
    TYPE_WORDS,
    Reading,
    alternation,
    canonical,
    match,
    named,
    one_goal,
    other_area,
    resolve,
)

SWAP_FROM = ("top left corner", "bottom right corner")  # where two blocks to swap start
SPARE_BLOCKS = 2  # blocks added to a bowl to empty, transfer or swap


def _spare(text: str, kind: str, count: int, taken: tuple[str, ...] = ()) -> tuple[str, ...]:
    """``count`` objects of ``kind`` in colours that neither ``text`` nor ``taken`` name
    (fewer when they name nearly every colour)."""
    used = {name.split()[0] for name in (*named(text)[0], *taken)}
    return tuple(f"{c} {kind}" for c in COLORS if c not in used)[:count]


def _is(name: str | None, kind: str) -> bool:
    return bool(name) and name.endswith(kind)


def _two(fields: list[str | None] | None, kind: str) -> bool:
    """Whether ``fields`` are two different objects of ``kind``."""
    return bool(fields) and all(_is(f, kind) for f in fields) and len(set(fields)) == 2


def _fields(text: str, templates, *keys: str) -> list[str] | None:
    """The names ``keys`` resolve to in the first of ``templates`` that ``text`` matches with
    every one of them resolved (``the red one``: the red block)."""
    for template in templates:
        hit = match(text, (template,))
        names = [resolve(hit[k].replace(" one", " block")) for k in keys] if hit else [None]
        if all(names):
            return names
    return None


def _clauses(text: str, templates) -> tuple[str, dict[str, str]] | None:
    """The goal of the clause ``{0}`` and the other fields of the first of ``templates`` that
    ``text`` matches with a clause that has one."""
    for template in templates:
        hit = match(text, (template,))
        goal = one_goal(hit.pop("f0")) if hit else None
        if goal:
            return goal, hit
    return None


def negated(text: str) -> Reading | None:
    """A block that must no longer be in a bowl or on a block: it starts there."""
    for templates, target_key, kind, relation in (
        (lang.NOT_IN, "bowl", "bowl", "in"),
        (lang.NOT_ON, "target", "block", "on"),
    ):
        fields = _fields(text, templates, "obj", target_key)
        if fields and _is(fields[0], "block") and _is(fields[1], kind) and len(set(fields)) == 2:
            fact = f"{relation}({fields[0]}, {fields[1]})"
            return Reading((f"not({fact})",), (fact,))
    return None


def clear(text: str) -> Reading | None:
    """Nothing may stay on a block: a block of another colour starts on it."""
    fields = _fields(text, lang.CLEAR_BLOCK, "block")
    if not fields or not _is(fields[0], "block"):
        return None
    upper = _spare(text, "block", 1)
    if not upper:
        return None
    fact = f"on({upper[0]}, {fields[0]})"
    return Reading((f"not({fact})",), (fact,), extra=upper)


def exclusion(text: str) -> Reading | None:
    """Every block but one into a bowl (``the red one``); two more blocks to move."""
    fields = _fields(text, (*lang.EXCEPT, *lang.LEAVE_OUT), "excluded", "bowl")
    if not fields or not _is(fields[0], "block") or not _is(fields[1], "bowl"):
        return None
    extra = (fields[0], *_spare(text, "block", SPARE_BLOCKS, taken=(fields[0],)))
    return Reading((), extra=extra, every_block=fields[1], excluded=fields[0])


def swap(text: str) -> Reading | None:
    """Two blocks change places, or the blocks of two bowls change bowls."""
    fields = _fields(text, lang.SWAP_PLACES, "obj", "obj2")
    if _two(fields, "block"):
        (a, b), (p, q) = fields, SWAP_FROM
        return Reading((f"at({a}, {q})", f"at({b}, {p})"), (f"at({a}, {p})", f"at({b}, {q})"))
    fields = _fields(text, lang.SWAP_BOWLS, "bowl", "bowl2")
    blocks = _spare(text, "block", 2)
    if _two(fields, "bowl") and len(blocks) == 2:
        (p, q), (a, b) = fields, blocks
        goal = (f"in({a}, {q})", f"in({b}, {p})")
        return Reading(goal, (f"in({a}, {p})", f"in({b}, {q})"), extra=(a, b))
    return None


def transfer(text: str) -> Reading | None:
    """The blocks of one bowl into another: two blocks start in the first."""
    fields = _fields(text, lang.TRANSFER, "bowl", "bowl2")
    if not _two(fields, "bowl"):
        return None
    source, dest = fields
    moved = _spare(text, "block", SPARE_BLOCKS)
    initial = tuple(f"in({b}, {source})" for b in moved)
    return Reading(tuple(f"in({b}, {dest})" for b in moved), initial, extra=moved)


def empty_onto(text: str) -> Reading | None:
    """A bowl emptied onto a place (a block starts in it) or, mobile, onto the other area."""
    fields = _fields(text, lang.EMPTY_ONTO, "bowl", "target")
    if not fields or not _is(fields[0], "bowl"):
        return None
    bowl, target = fields
    spare = _spare(text, "block", 1)
    if not spare:
        return None
    block = spare[0]
    if target in TABLETOP_PLACES:
        return Reading((f"at({block}, {target})",), (f"in({block}, {bowl})",), extra=spare)
    if target not in MOBILE_AREAS:
        return None
    initial = (f"at({bowl}, {other_area(target)})", f"in({block}, {bowl})")
    return Reading((f"at({block}, {target})",), initial, "mobile", extra=spare)


def back_to(text: str) -> Reading | None:
    """A block taken back to an area (mobile; it starts at the other one) or into a bowl."""
    fields = _fields(text, lang.BACK_TO_AREA, "obj", "area")
    if fields and _is(fields[0], "block") and fields[1] in MOBILE_AREAS:
        obj, area = fields
        source = other_area(area)
        return Reading((f"at({obj}, {area})",), (f"at({obj}, {source})",), "mobile")
    fields = _fields(text, lang.BACK_INTO, "obj", "bowl")
    if fields and _is(fields[0], "block") and _is(fields[1], "bowl"):
        return Reading((f"in({fields[0]}, {fields[1]})",))
    return None


def not_that_bowl(text: str) -> Reading | None:
    """Into the bowl that is not the named one: the scene holds just the two."""
    hit = match(text, lang.NOT_THAT_BOWL)
    obj = resolve(hit["obj"]) if hit else None
    if not _is(obj, "block"):
        return None
    colour = COLOUR_WORDS.get(hit.get("colour", ""))
    excluded = f"{colour} bowl" if colour else resolve(hit.get("bowl", ""))
    other = _spare(text, "bowl", 1, taken=(excluded or "",))
    if not _is(excluded, "bowl") or not other:
        return None
    return Reading((f"in({obj}, {other[0]})",), extra=(excluded, *other))


def all_to_area(text: str) -> Reading | None:
    """Mobile: every block to an area; two blocks start at the other one."""
    hit = match(text, lang.ALL_TO_AREA)
    area = resolve(hit["area"]) if hit else None
    if area not in MOBILE_AREAS:
        return None
    source = other_area(area)
    blocks = _spare(text, "block", SPARE_BLOCKS)
    initial = tuple(f"at({b}, {source})" for b in blocks)
    return Reading(tuple(f"at({b}, {area})" for b in blocks), initial, "mobile", extra=blocks)


def the_other(text: str) -> Reading | None:
    """One block into one bowl, the other block into the other bowl: two of each."""
    said = _clauses(text, lang.THE_OTHER)
    if said is None or not said[0].startswith("in("):
        return None
    block, bowl = _spare(text, "block", 1), _spare(text, "bowl", 1)
    if not block or not bowl:
        return None
    return Reading((said[0], f"in({block[0]}, {bowl[0]})"), extra=(*block, *bowl))


def the_rest(text: str) -> Reading | None:
    """One block somewhere, the rest of the blocks (two more) in a bowl."""
    said = _clauses(text, lang.THE_REST)
    bowl = resolve(said[1]["bowl"]) if said else None
    if not _is(bowl, "bowl"):
        return None
    rest = _spare(text, "block", SPARE_BLOCKS)
    return Reading((said[0], *(f"in({b}, {bowl})" for b in rest)), extra=rest)


_OBJECT = rf"(?:{alternation(COLOUR_WORDS)}) (?:{alternation(TYPE_WORDS)})"
_NAMES = {"bowl": _OBJECT, "block": _OBJECT, "place": alternation(PLACE_WORDS)}  # field: words
# (phrases, the fact that makes the phrase true of a block X): a block the instruction refers
# to by where it is, not by its colour
_REFERENCES = (
    (lang.HELD_REFS, "holding({x})"),
    (lang.CONTAINER_REFS, "in({x}, {bowl})"),
    (lang.SUPPORT_REFS, "on({x}, {block})"),
    (lang.PLACE_REFS, "at({x}, {place})"),
)


@lru_cache(maxsize=64)
def _reference_pattern(phrase: str) -> re.Pattern:
    """``the <phrase>`` anywhere in a canonical text, its fields as named groups."""
    parts = re.split(r"\{(\w+)\}", canonical(f"the {phrase}"))
    fields = (re.escape(p) if i % 2 == 0 else f"(?P<{p}>{_NAMES[p]})" for i, p in enumerate(parts))
    return re.compile(rf"\b{''.join(fields)}\b")


def reference(text: str) -> Reading | None:
    """A block referred to by where it is (``the block in the yellow bowl``, ``the block you
    are holding``) moved as one goal says: a block of another colour starts there."""
    block = _spare(text, "block", 1)
    for phrases, fact in _REFERENCES if block else ():
        for phrase in phrases:
            hit = _reference_pattern(phrase).search(text)
            if hit is None:
                continue
            names = {k: resolve(v) for k, v in hit.groupdict().items()}
            goal = _as(text, hit, block[0])
            if goal and all(names.values()) and block[0] not in names.values():
                start = fact.format(x=block[0], **names)
                return Reading((goal,), (start,), extra=block)
    return None


def _as(text: str, hit: re.Match, name: str) -> str | None:
    """The goal of ``text`` with the phrase ``hit`` found said as ``the <name>``."""
    return one_goal(text[: hit.start()] + f"the {name}" + text[hit.end() :])


def side(text: str) -> Reading | None:
    """The block on one side (left, right, near you, far from you): two blocks of other
    colours start on opposite sides, neither where the goal puts one."""
    blocks = _spare(text, "block", 2)
    for name, phrases in lang.SIDE_REFS.items() if len(blocks) == 2 else ():
        for hit in filter(None, (_reference_pattern(p).search(text) for p in phrases)):
            goal = _as(text, hit, blocks[0]) or ""
            here = next((p for p in SIDE_PLACES[name] if p not in goal), None)
            there = next((p for p in SIDE_PLACES[OPPOSITE[name]] if p not in goal), None)
            if goal and here and there:
                start = (f"at({blocks[0]}, {here})", f"at({blocks[1]}, {there})")
                return Reading((goal,), start, extra=blocks)
    return None


def only_one(text: str) -> Reading | None:
    """``the bowl``, ``the only block``: the scene holds just that one, in a colour the
    instruction does not use (none when it names another of that kind)."""
    for kind, phrases in lang.ONLY.items():
        spare = _spare(text, kind, 1)
        if not spare or any(o.endswith(kind) for o in named(text)[0]):
            continue
        for phrase in sorted(phrases, key=len, reverse=True):
            hit = _reference_pattern(phrase).search(text)
            goal = _as(text, hit, spare[0]) if hit else None
            if goal:
                return Reading((goal,), extra=spare)
    return None


READERS = (
    negated, clear, exclusion, swap, transfer, empty_onto, back_to, not_that_bowl, all_to_area,
    the_other, the_rest, reference, side, only_one,
)  # fmt: skip
