"""Which word follows which in the Say's training instructions: a smoothed bigram model.

Word grounding (:mod:`vla.planning.grounding`) asks MiniLM which known word means most what an
unseen word means. MiniLM alone often answers with a word of the right meaning in the wrong
place: "rest the red block on ..." becomes "remaining the red block on ...", because "the
rest" and "the remaining" mean the same. These counts, taken from the instructions of the LM's
own training corpus, say how readily a known word stands after its left neighbour and before
its right one, so that a verb replaces a verb. They are counted, never written by hand:
``vla-train-lm`` writes them beside the LM (``word_pairs.txt``, one ``left right count`` line
per pair; ``<s>`` and ``</s>`` mark an instruction's start and end).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from planners.prompt import instructions_in
from vla.planning.lm import PAIRS_FILE
from vla.planning.splits import word_list

START, END = "<s>", "</s>"


class WordPairs:
    """Counts of adjacent word pairs, read as add-``alpha`` smoothed bigram probabilities."""

    def __init__(self, counts: Counter[tuple[str, str]], alpha: float = 0.1) -> None:
        if not counts:
            raise ValueError("WordPairs needs at least one counted pair")
        self.counts = counts
        self.alpha = alpha
        self._left: Counter[str] = Counter()
        for (left, _), n in counts.items():
            self._left[left] += n
        self._vocabulary = len(self._left) + 1  # every word that starts a pair, and END

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> WordPairs:
        """The pairs of every ``instruction:`` line of the corpus ``texts``."""
        counts: Counter[tuple[str, str]] = Counter()
        for text in texts:
            for instruction in instructions_in(text):
                sentence = [START, *word_list(instruction), END]
                counts.update(zip(sentence, sentence[1:]))
        return cls(counts)

    @classmethod
    def read(cls, lm_dir: str | Path) -> WordPairs | None:
        """The pairs beside the LM in ``lm_dir``, or None when it has none."""
        path = Path(lm_dir) / PAIRS_FILE
        if not path.is_file():
            return None
        counts: Counter[tuple[str, str]] = Counter()
        for line in path.read_text().splitlines():
            left, right, n = line.split()
            counts[left, right] = int(n)
        return cls(counts)

    def write(self, lm_dir: str | Path) -> None:
        """Writes ``word_pairs.txt`` into ``lm_dir`` (sorted, so the file is reproducible)."""
        lines = [f"{a} {b} {n}\n" for (a, b), n in sorted(self.counts.items())]
        (Path(lm_dir) / PAIRS_FILE).write_text("".join(lines))

    def __add__(self, other: WordPairs) -> WordPairs:
        return WordPairs(self.counts + other.counts, self.alpha)

    def log_prob(self, left: str, right: str) -> float:
        """log P(``right`` follows ``left``), add-``alpha`` smoothed over the vocabulary."""
        seen = self.counts.get((left, right), 0) + self.alpha
        return math.log(seen / (self._left[left] + self.alpha * self._vocabulary))
