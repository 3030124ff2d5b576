"""Naming things in the task language: noun phrases, and the constructions that refer to an
object by other words, by description or by its relation to the scene.

The phrase helpers here serve every maker of :mod:`sim.tasks.language` (the ``language``
suite); the phrases themselves live in :mod:`sim.tasks.paraphrase_language`.
"""

from __future__ import annotations

import random

from sim.tasks import paraphrase as para
from sim.tasks import paraphrase_language as lang
from sim.tasks.building import PLACES, goal_text, make_task, names, say, tabletop
from sim.tasks.spec import TaskSpec

SIDE_PLACES = {  # which named places lie on each side (left is the robot's left, +y)
    "left": ("top left corner", "bottom left corner"),
    "right": ("top right corner", "bottom right corner"),
    "near": ("bottom left corner", "bottom right corner"),
    "far": ("top left corner", "top right corner"),
}
OPPOSITE = {"left": "right", "right": "left", "near": "far", "far": "near"}


# ---------------------------------------------------------------------------------------------
# Noun phrases (without their article)


def colour_word(rng: random.Random, colour: str, p: float = 0.3) -> str:
    return rng.choice(para.COLOR_SYNONYMS[colour]) if rng.random() < p else colour


def typed(rng: random.Random, name: str) -> str:
    """``name`` with another word for its type, its colour sometimes a synonym."""
    colour, kind = name.split()
    return f"{colour_word(rng, colour)} {rng.choice(lang.TYPE_WORDS[kind])}"


def described(rng: random.Random, name: str) -> str:
    """``name`` by a description of its colour: ``block that is the colour of grass``."""
    colour, kind = name.split()
    desc = rng.choice(lang.COLOR_DESCRIPTIONS[colour])
    return rng.choice(lang.DESCRIBED).format(kind=kind, desc=desc)


def place_words(rng: random.Random, place: str, p_describe: float = 0.0) -> str:
    if rng.random() < p_describe:
        return rng.choice(lang.PLACE_DESCRIPTIONS[place])
    return rng.choice((place, place, *para.PLACE_SYNONYMS[place]))


def excluded_phrase(rng: random.Random, name: str) -> str:
    colour, kind = name.split()
    return f"{colour_word(rng, colour)} {rng.choice(('one', kind))}"


def clause(rng: random.Random, kind: str, obj: str, target: str | None) -> str:
    """One goal as an imperative clause; places in their own words."""
    if kind == "at":
        target = place_words(rng, target)
    return say(rng, kind, obj, target)


def placement(rng: random.Random, block: str, blocks, bowls, kinds=("in", "at", "on")):
    """A random goal (kind, target) for ``block``: a bowl, a place or another block."""
    options = [k for k in kinds if (k != "in" or bowls) and (k != "on" or len(blocks) > 1)]
    kind = rng.choice(options)
    if kind == "in":
        return kind, rng.choice(bowls)
    if kind == "on":
        return kind, rng.choice([b for b in blocks if b != block])
    return kind, rng.choice(PLACES)


# ---------------------------------------------------------------------------------------------
# Nouns: other words, descriptions, the only one of its type


def synonyms(rng: random.Random) -> TaskSpec:
    """One goal; the block and the bowl or block it goes to named with other type words."""
    blocks, bowls = tabletop(rng, blocks=(2, 4), bowls=(1, 4))
    obj = blocks[0]
    kind, target = placement(rng, obj, blocks, bowls)
    words = place_words(rng, target) if kind == "at" else typed(rng, target)
    text = say(rng, kind, typed(rng, obj), words)
    return make_task(text, [goal_text(kind, obj, target)], blocks + bowls)


def descriptions(rng: random.Random) -> TaskSpec:
    """Colours and places described instead of named."""
    blocks, bowls = tabletop(rng, blocks=(2, 4), bowls=(1, 4))
    obj = blocks[0]
    kind, target = placement(rng, obj, blocks, bowls)
    if kind == "at":
        words = place_words(rng, target, p_describe=1.0)
        obj_words = described(rng, obj) if rng.random() < 0.5 else obj
    else:
        both = rng.random() < 0.5
        obj_words = described(rng, obj) if both or rng.random() < 0.5 else obj
        words = described(rng, target) if both or obj_words == obj else target
    text = say(rng, kind, obj_words, words)
    return make_task(text, [goal_text(kind, obj, target)], blocks + bowls)


def only_one(rng: random.Random) -> TaskSpec:
    """``the bowl`` when there is one bowl, ``the block`` when there is one block."""
    if rng.random() < 0.5:
        blocks, bowls = tabletop(rng, blocks=(1, 4), bowls=(1, 1))
        obj, target = blocks[0], bowls[0]
        text = say(rng, "in", obj, rng.choice(lang.ONLY["bowl"]))
        return make_task(text, [goal_text("in", obj, target)], blocks + bowls)
    blocks, bowls = tabletop(rng, blocks=(1, 1), bowls=(1, 3))
    obj = blocks[0]
    kind, target = placement(rng, obj, blocks, bowls, kinds=("in", "at"))
    words = place_words(rng, target) if kind == "at" else target
    text = say(rng, kind, rng.choice(lang.ONLY["block"]), words)
    return make_task(text, [goal_text(kind, obj, target)], blocks + bowls)


# ---------------------------------------------------------------------------------------------
# References by relation


def _ref_goal(rng: random.Random, obj: str, phrase: str, objects, initial, kinds, avoid=()):
    """A task moving ``obj``, named by ``phrase``, into a bowl, onto a block or to a free
    place of ``objects`` (``avoid``: objects and places that may not be its target)."""
    blocks = [o for o in objects if o.endswith("block") and o not in avoid]
    bowls = [o for o in objects if o.endswith("bowl") and o not in avoid]
    kind, target = placement(rng, obj, blocks, bowls, kinds)
    if kind == "at":
        target = rng.choice([p for p in PLACES if p not in avoid])
    text = clause(rng, kind, phrase, target)
    return make_task(text, [goal_text(kind, obj, target)], objects, initial)


def held_ref(rng: random.Random) -> TaskSpec:
    """``the block you are holding``: the one in the hand."""
    blocks, bowls = tabletop(rng, blocks=(2, 4), bowls=(1, 3))
    obj = rng.choice(blocks)
    phrase = rng.choice(lang.HELD_REFS)
    initial = [f"holding({obj})"]
    return _ref_goal(rng, obj, phrase, blocks + bowls, initial, ("in", "on", "at"))


def container_ref(rng: random.Random) -> TaskSpec:
    """``the block in the red bowl`` / ``the block on the green block``."""
    blocks, bowls = tabletop(rng, blocks=(2, 4), bowls=(1, 3))
    obj = blocks[0]
    if rng.random() < 0.5:
        bowl = bowls[0]
        initial = [f"in({obj}, {bowl})"]
        if len(bowls) > 1 and rng.random() < 0.5:
            initial.append(f"in({blocks[1]}, {bowls[1]})")  # another bowl holds another
        phrase = rng.choice(lang.CONTAINER_REFS).format(bowl=bowl)
        return _ref_goal(rng, obj, phrase, blocks + bowls, initial, ("in", "at"), avoid=[bowl])
    under = blocks[1]
    phrase = rng.choice(lang.SUPPORT_REFS).format(block=under)
    initial = [f"on({obj}, {under})"]
    return _ref_goal(rng, obj, phrase, blocks + bowls, initial, ("in", "at", "on"), [under])


def place_ref(rng: random.Random) -> TaskSpec:
    """``the block at the top left corner``: two or three blocks at named places."""
    blocks, bowls = tabletop(rng, blocks=(2, 3), bowls=(1, 3))
    places = rng.sample(PLACES, len(blocks))
    initial = [f"at({b}, {p})" for b, p in zip(blocks, places)]
    phrase = rng.choice(lang.PLACE_REFS).format(place=place_words(rng, places[0]))
    kinds = ("in", "at", "on")
    return _ref_goal(rng, blocks[0], phrase, blocks + bowls, initial, kinds, avoid=places)


def side_ref(rng: random.Random) -> TaskSpec:
    """``the block on the left`` / ``nearest to you``: two blocks on opposite sides."""
    blocks, bowls = names(rng, "block", 2), names(rng, "bowl", rng.randint(1, 3))
    side = rng.choice(tuple(lang.SIDE_REFS))
    here = rng.choice(SIDE_PLACES[side])
    there = rng.choice([p for p in SIDE_PLACES[OPPOSITE[side]] if p != here])
    initial = [f"at({blocks[0]}, {here})", f"at({blocks[1]}, {there})"]
    phrase = rng.choice(lang.SIDE_REFS[side])
    kinds = ("in", "at", "on")
    return _ref_goal(rng, blocks[0], phrase, blocks + bowls, initial, kinds, (here, there))
