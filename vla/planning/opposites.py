"""What sentence embeddings miss: a sentence and its opposite read as near twins.

Sentence grounding (:mod:`vla.planning.sentences`) reads a new wording as its closest trained
instruction by MiniLM embedding. Such embeddings are known to put a sentence close to one that
says the opposite, in three ways that English marks with a closed class of words:

- **negation**: "make sure the red block is no longer on the green block" against "... is on
  the green block" ("not", "no", "never", "without", "n't", ...);
- **antonyms of place and order**: "from the top downwards" against "from the bottom up"
  (top/bottom, up/down, left/right, near/far, front/back, before/after, first/last);
- **a reversing prefix**: "unstack" against "stack".

:func:`clashes` counts how many of these a trained sentence gets wrong against the
instruction; the grounding keeps the candidates with the fewest. Place names ("top left
corner") are set aside before it looks (:mod:`vla.planning.sentences` replaces them first),
so a corner's "top" or "left" is never read as a direction.

Grammatical number ("the blocks in the blue bowl" against "the block in the blue bowl") was
tried as a fourth and left out: on validation seeds it cost more wordings than it mended
(``docs/experiments/2026-12-07-saycan-opposites.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vla.planning.splits import words as words_of

_NEGATION = re.compile(
    r"\b(?:not|no|never|nothing|none|nobody|nowhere|neither|nor|without|cannot)\b|n't\b"
)
# Each pair: the words of one pole, the words of the other (closed classes of English).
OPPOSITES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("top", "upper", "uppermost", "topmost", "above"), ("bottom", "lower", "lowest", "below")),
    (("up", "upward", "upwards"), ("down", "downward", "downwards")),
    (("left", "leftmost"), ("right", "rightmost")),
    (
        ("near", "nearer", "nearest", "close", "closer", "closest"),
        ("far", "farther", "farthest", "further", "furthest"),
    ),
    (("front",), ("back", "rear", "behind")),
    (("before", "earlier"), ("after", "afterwards", "later")),
    (("first", "firstly"), ("last", "lastly", "finally")),
)
_POLE = {
    w: 2 * i + side for i, pair in enumerate(OPPOSITES) for side, ws in enumerate(pair) for w in ws
}


def negated(text: str) -> bool:
    """Whether ``text`` says something is not so (any English negation word in it)."""
    return bool(_NEGATION.search(text.lower()))


@dataclass(frozen=True)
class Marks:
    """What :func:`clashes` compares in one sentence."""

    negated: bool
    poles: frozenset[int]  # 2 * pair + side: one side of a pair said without the other
    opposites: frozenset[int]  # the other side of each of those
    unsaid: frozenset[str]  # X for each word "unX"
    words: frozenset[str]


def marks(text: str) -> Marks:
    """The marks of ``text`` (lower-cased; place names already set aside)."""
    words = frozenset(words_of(text))
    said = {_POLE[w] for w in words if w in _POLE}
    poles = frozenset(p for p in said if p ^ 1 not in said)
    unsaid = frozenset(w[2:] for w in words if w.startswith("un"))
    return Marks(negated(text), poles, frozenset(p ^ 1 for p in poles), unsaid, words)


def clashes(instruction: Marks, candidate: Marks) -> int:
    """How many ways ``candidate`` says the opposite of ``instruction``: negated where it is
    not (or the reverse); one word of an antonym pair where the instruction says the other
    (and neither says both); a word "X" where the instruction says "unX" (or the reverse)."""
    count = int(instruction.negated != candidate.negated)
    count += bool(instruction.opposites & candidate.poles)
    count += bool(
        (instruction.unsaid & candidate.words) - candidate.unsaid
        or (candidate.unsaid & instruction.words) - instruction.unsaid
    )
    return count
