"""Train and held-out tasks for SayCan's language models: held out by word and by construction.

Tasks come from the built-in suites' makers (:data:`sim.tasks.generate.SUITE_MAKERS`) with
other seeds. Three splits:

* ``train``: the paraphrase tables without any phrase that contains a :data:`HELD_OUT_WORDS`
  word, and every construction of :mod:`sim.tasks.language` but the held-out ones.
* ``held_out`` (held-out wordings): the same constructions, each task containing at least one
  held-out word (a verb, connector or sentence template the train split never shows).
* ``held_out_constructions``: only :data:`sim.tasks.language.HELD_OUT_CONSTRUCTIONS`, whole
  constructions (one ordering, one exclusion, one reference) the train split never shows,
  in the train split's words, so that the construction is the only thing that is new.

Language-family tasks are labelled ``language.<construction>`` (the suites label them
``language``), so figures can be read per construction.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sim.tasks import TaskSpec
from sim.tasks import paraphrase as para
from sim.tasks import paraphrase_language as lang
from sim.tasks.building import Maker
from sim.tasks.generate import SUITE_MAKERS
from sim.tasks.language import CONSTRUCTIONS, HELD_OUT_CONSTRUCTIONS
from sim.tasks.spec import BUILTIN_SUITES

SPLITS = ("train", "held_out", "held_out_constructions")
LANGUAGE = "language"
TRAINED_CONSTRUCTIONS = tuple(n for n in CONSTRUCTIONS if n not in HELD_OUT_CONSTRUCTIONS)
# One or two wordings per kind of sentence: verbs of each skill, step connectors, the sort,
# clear, bring and return phrasings, and in the language tables a word of most sentence
# templates, one description of each colour and one other word for each object type. Names
# of colours, objects, places and areas of the older tables are vocabulary, not wording: all
# their synonyms are trained (the previous LM, trained from scratch, could not guess what an
# unseen noun names).
HELD_OUT_WORDS = frozenset(
    {
        *("grasp", "hold", "toss", "deposit", "rest", "relocate"),
        *("once", "next", "match", "unload", "fetch", "return"),
        *("wooden", "tub", "fire", "frog", "blueberries", "sun", "pumpkin", "eggplant"),
        *("flamingo", "lagoon", "rear", "very", "single", "gather", "collect", "belongs"),
        *("everything", "apart", "whichever", "ensure", "afterwards", "scoop", "erect"),
        *("downwards", "carrying", "sitting", "resting", "standing", "exchange", "trade"),
        *("transfer", "tip", "unstack", "drive", "head"),
    }
)
TABLES: dict[str, Any] = {  # table name -> the module holding it
    **{
        name: para
        for name in (
            "COLOR_SYNONYMS", "TYPE_SYNONYMS", "PLACE_SYNONYMS", "AREA_SYNONYMS",
            "VERB_TEMPLATES", "STEP_CONNECTORS", "SORT_INSTRUCTIONS", "STACK_INSTRUCTIONS",
            "CLEAR_INSTRUCTIONS", "BRING_INSTRUCTIONS", "BRING_INTO_INSTRUCTIONS",
            "RETURN_SUFFIXES",
        )
    },
    **{name: lang for name in dir(lang) if name.isupper()},
}  # fmt: skip


def word_list(text: str) -> list[str]:
    """Lower-case words of ``text`` in order (letters only; ``top-left`` is two words)."""
    return re.findall(r"[a-z]+", text.lower())


def words(text: str) -> set[str]:
    """The set of :func:`word_list`."""
    return set(word_list(text))


def _held(phrase: str) -> bool:
    return bool(words(phrase) & HELD_OUT_WORDS)


def _split_phrases(phrases: tuple[str, ...], split: str) -> tuple[str, ...]:
    """``held_out``: the phrases with a held-out word, or all of them where there are none
    (e.g. the colour synonyms: every one is trained). Otherwise: the phrases without one."""
    held = tuple(p for p in phrases if _held(p))
    if split == "held_out":
        return held or phrases
    return tuple(p for p in phrases if not _held(p))


def split_tables(split: str) -> dict[str, Any]:
    """The paraphrase tables of ``split`` (see :func:`_split_phrases`)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; splits: {SPLITS}")
    tables: dict[str, Any] = {}
    for name, module in TABLES.items():
        table = getattr(module, name)
        if isinstance(table, dict):
            tables[name] = {k: _split_phrases(v, split) for k, v in table.items()}
        else:
            tables[name] = _split_phrases(table, split)
    return tables


@contextmanager
def paraphrase_tables(tables: dict[str, Any]) -> Iterator[None]:
    """Let the suite makers draw from ``tables`` (they read the paraphrase modules)."""
    old = {name: getattr(TABLES[name], name) for name in tables}
    try:
        for name, table in tables.items():
            setattr(TABLES[name], name, table)
        yield
    finally:
        for name, table in old.items():
            setattr(TABLES[name], name, table)


def family_makers(family: str, split: str) -> list[tuple[str, Maker]]:
    """(label, maker) of ``family`` in ``split``: every maker of a suite labelled with the
    family, or for ``language`` each construction labelled ``language.<name>``."""
    held = split == "held_out_constructions"
    if family != LANGUAGE:
        return [] if held else [(family, m) for m in SUITE_MAKERS[family]]
    names = [n for n in CONSTRUCTIONS if (n in HELD_OUT_CONSTRUCTIONS) == held]
    return [(f"{LANGUAGE}.{n}", CONSTRUCTIONS[n]) for n in names]


def generate_tasks(
    split: str,
    per_family: int,
    seed: int,
    families: tuple[str, ...] = BUILTIN_SUITES,
    construction_weights: Mapping[str, float] | None = None,
) -> list[TaskSpec]:
    """``per_family`` tasks of each family (for ``language``: of each construction, times its
    ``construction_weights`` entry, 1 if none) of ``split``, labelled as :func:`family_makers`
    says.

    Held-out tasks must contain a held-out word; families that never can (``single``, whose
    instructions are the skill texts) get none.
    """
    weights = construction_weights or {}
    rng = random.Random(f"{seed}:{split}")
    words_of = "train" if split == "held_out_constructions" else split
    tasks: list[TaskSpec] = []
    with paraphrase_tables(split_tables(words_of)):
        for family in families:
            makers = family_makers(family, split)
            groups = [makers] if family != LANGUAGE else [[m] for m in makers]
            for group in filter(None, groups):
                name = group[0][0].removeprefix(f"{LANGUAGE}.")
                weight = weights.get(name, 1.0) if family == LANGUAGE else 1.0
                count = round(per_family * weight)
                tasks += _draw(rng, group, count, split)
    return tasks


def _draw(rng: random.Random, makers: list[tuple[str, Maker]], count: int, split: str):
    """``count`` tasks from ``makers`` taking turns (fewer if the split rarely allows one)."""
    tasks: list[TaskSpec] = []
    for attempt in range(count * 20):
        if len(tasks) == count:
            break
        label, make = makers[attempt % len(makers)]
        task = make(rng)
        if split == "held_out" and not words(task.instruction) & HELD_OUT_WORDS:
            continue
        tasks.append(replace(task, family=label))
    return tasks
