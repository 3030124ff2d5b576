"""Read a free-form instruction with the task language: what it names, and its goal if it can.

The reader runs the generators' phrase tables (:mod:`sim.tasks.paraphrase`,
:mod:`sim.tasks.paraphrase_language`) backwards. Noun phrases are resolved by their words:
a colour (its name, a synonym or a description such as ``the colour of grass``) and a type
(``block``, ``cube``, ``dish``, ...) make an object; place and area names and their synonyms
and descriptions make places and areas. A goal is inferred when the whole instruction matches
a sentence the task language can say and every noun phrase in it resolves:

* one goal (``stack the blue block on the red block``: ``on(blue block, red block)``; the
  target's type decides between ``in``, ``on`` and ``at``), also as ``pick up X and put it
  ...``, or several joined by a step connector (``first ..., then ...``, ``... but first``);
* a tower listed from the bottom or from the top;
* every block into a bowl (the blocks of the scene);
* a block brought from one area to another (the mobile scene), optionally into a bowl there,
  and any of these followed by ``then come back to the <area>``;
* going to an area (``go to the counter``), alone or with a pick there;
* negation, exclusion, clearing, swaps, transfers, emptying a bowl, returns, "the other" and
  "the rest", everything to an area, "the only bowl" and blocks referred to by where they are
  or by their side, each with the start its goal needs (:mod:`sim.tasks.reader_changes`).

Prepositions and quantifiers people use interchangeably are read alike, in the
instruction and in the phrase tables (:func:`canonical`: ``into`` as ``in``, ``every block``
as ``all the blocks``), and a placing verb's target may follow any of ``in``, ``on``, ``to``
and ``at`` (``relocate the red block into the blue bowl``): its type decides the goal.
Anything else gets no goal (``None``); its named objects are still read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from sim.geometry import COLORS, MOBILE_AREAS, TABLETOP_PLACES
from sim.tasks import paraphrase as para
from sim.tasks import paraphrase_language as lang

TYPES = ("block", "bowl")


def _vocabulary() -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str]]:
    """Phrase -> canonical name, for colours, types, places and areas."""
    colours = {c: c for c in COLORS}
    for colour, words in (*para.COLOR_SYNONYMS.items(), *lang.COLOR_DESCRIPTIONS.items()):
        colours.update({w: colour for w in words})
    types = {t: t for t in TYPES}
    for kind, words in (*para.TYPE_SYNONYMS.items(), *lang.TYPE_WORDS.items()):
        types.update({w: kind for w in words})
    places = {p: p for p in TABLETOP_PLACES}
    for place, words in (*para.PLACE_SYNONYMS.items(), *lang.PLACE_DESCRIPTIONS.items()):
        places.update({w: place for w in words})
    areas = {a: a for a in MOBILE_AREAS}
    for area, words in para.AREA_SYNONYMS.items():
        areas.update({w: area for w in words})
    return colours, types, places, areas


COLOUR_WORDS, TYPE_WORDS, PLACE_WORDS, AREA_WORDS = _vocabulary()


def normalize(text: str) -> str:
    """Lower case, single spaces, no final full stop."""
    return " ".join(text.lower().split()).rstrip(".!")


def alternation(phrases) -> str:
    """A regex alternation of ``phrases``, longest first, each escaped."""
    return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))


# Each phrase of a row is read as the row's first: the task language's templates use them
# interchangeably, so an instruction mixing them ("put every block in ...") means the same.
_SAME_AS = (
    ("in", ("inside of", "inside", "into")),
    ("on", ("on top of", "onto")),
    ("not", ("no longer",)),
    ("make sure", ("ensure that", "ensure")),
    (
        "all the blocks",
        (
            "all of the blocks",
            "each of the blocks",
            "all blocks",
            "every block",
            "each block",
            "the blocks",
        ),
    ),
)
_SAME = [(re.compile(rf"\b(?:{alternation((word, *alike))})\b"), word) for word, alike in _SAME_AS]


def canonical(text: str) -> str:
    """``text`` with each interchangeable phrase as its row's first (``_SAME_AS``)."""
    for pattern, word in _SAME:
        text = pattern.sub(word, text)
    return text


_COLOUR, _TYPE = alternation(COLOUR_WORDS), alternation(TYPE_WORDS)
_DESCRIBED = "|".join(d.format(kind="{kind}", desc="{desc}") for d in lang.DESCRIBED)
OBJECT_RE = re.compile(
    rf"\b(?:(?P<colour>{_COLOUR}) (?P<type>{_TYPE})"
    rf"|(?P<type2>{_TYPE}) (?:that is|that has) (?P<colour2>{_COLOUR}))\b"
)


def resolve(phrase: str) -> str | None:
    """The canonical object, place or area a noun phrase names, or None when the phrase is
    anything else: ``the crimson cube`` -> ``red block``; ``the far left corner`` ->
    ``top left corner``; ``the counter`` -> ``counter``."""
    text = normalize(phrase).removeprefix("the ")
    for table in (PLACE_WORDS, AREA_WORDS):
        if text in table:
            return table[text]
    match = OBJECT_RE.fullmatch(text)
    if match is None:
        return None
    colour = match.group("colour") or match.group("colour2")
    kind = match.group("type") or match.group("type2")
    return f"{COLOUR_WORDS[colour]} {TYPE_WORDS[kind]}"


def named(text: str) -> tuple[list[str], list[str], list[str]]:
    """(objects, places, areas) ``text`` names, each in order of first mention."""
    text = normalize(text)
    objects: list[str] = []
    for match in OBJECT_RE.finditer(text):
        name = resolve(match.group(0))
        if name and name not in objects:
            objects.append(name)
    places = [p for p in TABLETOP_PLACES if mentions(text, PLACE_WORDS, p)]
    areas = [a for a in MOBILE_AREAS if mentions(text, AREA_WORDS, a)]
    return objects, places, areas


def mentions(text: str, table: dict[str, str], name: str) -> bool:
    """Whether normalized ``text`` says ``name`` in any of its words in ``table`` (e.g.
    :data:`COLOUR_WORDS`: ``crimson`` or ``the colour of a tomato`` for ``red``)."""
    return any(re.search(rf"\b{re.escape(w)}\b", text) for w, n in table.items() if n == name)


_BLOCKS = re.compile(
    rf"\b(?:{alternation(w + 's' for w, kind in TYPE_WORDS.items() if kind == 'block')})\b"
)


def speaks_of_blocks(text: str) -> bool:
    """Whether ``text`` speaks of blocks in general: "the cubes", "every block"."""
    return _BLOCKS.search(canonical(normalize(text))) is not None


@dataclass(frozen=True)
class Reading:
    """What an instruction says: goal and starting predicates as text, and its scene."""

    goal: tuple[str, ...]
    initial: tuple[str, ...] = ()
    scene: str = "tabletop"
    every_block: str | None = None  # a bowl every block of the scene goes into
    excluded: str | None = None  # the block every_block leaves out (it must not go in)
    extra: tuple[str, ...] = ()  # objects the goal needs that the instruction does not name


@lru_cache(maxsize=4096)
def _pattern(template: str) -> re.Pattern:
    """A template with ``{field}`` slots as a regular expression with named groups (built
    once per template)."""
    parts = re.split(r"\{(\w+)\}", canonical(template))
    regex = "".join(
        re.escape(p) if i % 2 == 0 else f"(?P<{'f' + p if p.isdigit() else p}>.+?)"
        for i, p in enumerate(parts)
    )
    return re.compile(regex + "$")


def match(text: str, templates) -> dict[str, str] | None:
    """The fields of the first of ``templates`` that ``text`` (canonical) matches whole."""
    for template in templates:
        hit = _pattern(template).match(text)
        if hit:
            return hit.groupdict()
    return None


# The preposition before a placing verb's target: the target's type, not the word, decides
# the goal (``in`` a bowl, ``on`` a block, ``at`` a place), so people use them loosely.
_PLACING = ("in", "on", "to", "at")
_BEFORE_TARGET = re.compile(rf"\b(?:{'|'.join(_PLACING)}) the \{{target\}}")


@lru_cache(maxsize=1)
def _any_preposition() -> tuple[str, ...]:
    """The placing verbs' templates once more with each preposition before the target
    ("relocate the {obj} to the {target}" also as "relocate the {obj} in the {target}")."""
    kinds = (ts for kind, ts in para.VERB_TEMPLATES.items() if kind != "pick")
    placing = [canonical(t) for ts in kinds for t in ts]
    return tuple(
        _BEFORE_TARGET.sub(f"{word} the {{target}}", template)
        for template in placing
        if _BEFORE_TARGET.search(template)
        for word in _PLACING
    )


def one_goal(clause: str) -> str | None:
    """The goal of one clause (``put the red block in the blue bowl``), if it has one: the
    first template it matches whose object and target resolve (a description may hold a
    preposition of its own: ``the corner furthest from you on the right``)."""
    clause = canonical(normalize(clause))
    pick = para.VERB_TEMPLATES["pick"]
    for template in pick:
        hit = match(clause, (template,))
        if hit and (obj := resolve(hit["obj"])) and obj.endswith("block"):
            return f"holding({obj})"
    placing = [t for kind, ts in para.VERB_TEMPLATES.items() if kind != "pick" for t in ts]
    placing += [t.replace("{where}", "{rel} the {target}") for t in lang.PICK_AND_PLACE]
    for template in (*placing, *_any_preposition()):
        hit = match(clause, (template,))
        obj, target = (resolve(hit["obj"]), resolve(hit["target"])) if hit else (None, None)
        if obj and obj.endswith("block") and target and target != obj:
            return _placed(obj, target)
    return None


def _placed(obj: str, target: str) -> str:
    """``in``, ``on`` or ``at``: the target's type decides."""
    if target.endswith("bowl"):
        return f"in({obj}, {target})"
    return f"on({obj}, {target})" if target.endswith("block") else f"at({obj}, {target})"


def read_goal(instruction: str) -> Reading | None:
    """The goal of ``instruction`` when the task language can say it (see the module
    docstring), else None."""
    text = canonical(normalize(instruction))
    for suffix in para.RETURN_SUFFIXES:  # "..., then come back to the table"
        hit = _pattern("{rest}" + suffix).match(text)
        area = resolve(hit["area"]) if hit else None
        if area in MOBILE_AREAS and (reading := read_goal(hit["rest"])) and not reading.every_block:
            return replace(reading, goal=(*reading.goal, f"robot_at({area})"), scene="mobile")
    from sim.tasks.reader_changes import READERS  # they build on this module's helpers

    for reader in (_single, _steps, _tower, _every_block, _bring, _go_to, *READERS):
        reading = reader(text)
        if reading is not None:
            return reading
    return None


def _single(text: str) -> Reading | None:
    goal = one_goal(text)
    return Reading((goal,), scene=_scene_of([goal])) if goal else None


def _steps(text: str) -> Reading | None:
    connectors = [*para.STEP_CONNECTORS[2], *para.STEP_CONNECTORS[3], *lang.SEQUENCE[2]]
    connectors += [*lang.SEQUENCE[3], "{0} and then {1}", "{0}, then {1}", "{0} then {1}"]
    connectors += ["{0} and {1}", "{0}; {1}"]
    for template in [*connectors, *lang.BUT_FIRST]:
        hit = _pattern(template).match(text)
        if not hit:
            continue
        clauses = [hit.group(f"f{i}") for i in range(3) if f"f{i}" in hit.groupdict()]
        goals = [one_goal(c) for c in clauses]
        if all(goals) and len(set(goals)) == len(goals):
            return Reading(tuple(goals), scene=_scene_of(goals))
    return None


def _tower(text: str) -> Reading | None:
    for templates, top_first in (
        (para.STACK_INSTRUCTIONS, False), (lang.TOWER_UP, False), (lang.TOWER_DOWN, True),
    ):  # fmt: skip
        hit = match(text, templates)
        if hit:
            blocks = [resolve(p) for p in re.split(r", | and ", hit["sequence"])]
            return _stack(blocks[::-1] if top_first else blocks)
    hit = match(text, lang.TOWER_ROLES)
    if hit:
        return _stack([resolve(hit[k]) for k in ("bottom", "middle", "top")])
    return None


def _stack(blocks: list[str | None]) -> Reading | None:
    if len(blocks) < 2 or not all(b and b.endswith("block") for b in blocks):
        return None
    if len(set(blocks)) < len(blocks):
        return None
    return Reading(tuple(f"on({up}, {low})" for low, up in zip(blocks, blocks[1:])))


def _every_block(text: str) -> Reading | None:
    hit = match(text, [*lang.ALL_INTO, *lang.BOTH_INTO])
    bowl = resolve(hit["bowl"]) if hit else None
    return Reading((), every_block=bowl) if bowl and bowl.endswith("bowl") else None


def _bring(text: str) -> Reading | None:
    hit = match(text, para.BRING_INTO_INSTRUCTIONS)
    if hit:
        obj, source, dest, bowl = (resolve(hit[k]) for k in ("obj", "source", "dest", "bowl"))
        if obj and bowl and source in MOBILE_AREAS and dest in MOBILE_AREAS and source != dest:
            initial = (f"at({obj}, {source})", f"at({bowl}, {dest})")
            return Reading((f"in({obj}, {bowl})",), initial, "mobile")
    hit = match(text, para.BRING_INSTRUCTIONS)
    if hit:
        obj, source, dest = (resolve(hit[k]) for k in ("obj", "source", "dest"))
        if obj and source in MOBILE_AREAS and dest in MOBILE_AREAS and source != dest:
            return Reading((f"at({obj}, {dest})",), (f"at({obj}, {source})",), "mobile")
    return None


def _go_area(clause: str) -> str | None:
    hit = match(clause, lang.GO_TO)
    area = resolve(hit["area"]) if hit else None
    return area if area in MOBILE_AREAS else None


def _go_to(text: str) -> Reading | None:
    """``go to the counter``, alone or with a pick there (``... and pick up the red block
    there``): the robot starts at the other area, the block where it goes."""
    area, obj = _go_area(text), None
    for template in lang.GO_AND if area is None else ():
        hit = _pattern(template).match(text)
        then = one_goal(hit["f1"]) if hit else None
        if then and then.startswith("holding(") and (area := _go_area(hit["f0"])):
            obj = then.removeprefix("holding(").removesuffix(")")
            break
    if area is None:
        return None
    other = other_area(area)
    goal, initial = [f"robot_at({area})"], [f"robot_at({other})"]
    if obj:
        goal.append(f"holding({obj})")
        initial.append(f"at({obj}, {area})")
    return Reading(tuple(goal), tuple(initial), "mobile")


def other_area(area: str) -> str:
    """The mobile scene's area that is not ``area``."""
    return next(a for a in MOBILE_AREAS if a != area)


def _scene_of(goals) -> str:
    """``mobile`` when a goal names an area, else ``tabletop``."""
    return (
        "mobile"
        if any(g.split(", ")[-1].rstrip(")") in MOBILE_AREAS for g in goals)
        else "tabletop"
    )
