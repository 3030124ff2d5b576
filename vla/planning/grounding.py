"""Word grounding: MiniLM reads a word the Say never saw as the known word most like it there.

The bundled LM learned English only from our task grammar, so a verb or description it never
saw ("grasp", "the colour of a frog") means nothing to it. all-MiniLM-L6-v2, trained on a
billion sentence pairs, knows such words. Before the LM scores a step, every word of the
instruction outside the LM's training vocabulary (``words.txt`` beside the LM, written by
``vla-train-lm``) is replaced by the known word MiniLM reads most alike in that place:

1. the ``shortlist`` known words whose own embedding is closest to the unknown word's;
2. of those, the one whose contextual state, read in the unknown word's place against the
   original's context (:mod:`vla.planning.substitutes`), is closest to the unknown word's
   state there (lexical substitution with a masked LM's states),
   plus, when the LM has its corpus's word pairs (``word_pairs.txt``), ``fluency`` times how
   readily the known word follows its left neighbour and precedes its right one there
   (:class:`vla.planning.word_pairs.WordPairs`), so that a verb replaces a verb.

Nothing here is written by hand about the task language: the vocabulary and the pairs come
from the corpus and every meaning from MiniLM. Words are replaced left to right, each in the
context of the ones already replaced. An instruction is grounded once and cached; the scene
lines and skills of the prompt are the simulator's own words and are left as they are.

:class:`GroundedScorer` also reads such an instruction as the closest trained instruction
(:mod:`vla.planning.sentences`) when the LM has its corpus's instructions, and averages the
LM's scores over both readings.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from planners.prompt import INSTRUCTION
from planners.scorer import LanguageScorer
from vla.language import DEFAULT_ENCODER, SentenceEncoder, native_bf16
from vla.planning.lm import SENTENCES_FILE, WORDS_FILE
from vla.planning.sentences import TrainedInstructions
from vla.planning.splits import words
from vla.planning.substitutes import substitute_states
from vla.planning.word_pairs import END, START, WordPairs

FLUENCY = 0.02  # weight of the pairs' log-probability against MiniLM's cosine (validation)
SHORTLIST = 20  # known words compared in context (validation seeds)
WORD_LAYERS = 6  # MiniLM layers whose states compare them (validation seeds)
WORD_CONTEXT: int | None = 6  # words each side of it that MiniLM reads (validation); None: all
_PIECES = re.compile(r"[A-Za-z]+|[^A-Za-z\s]")
_CACHE_SIZE = 1024


def corpus_words(texts: Iterable[str]) -> list[str]:
    """The sorted lower-case words (letters only, as :func:`vla.planning.splits.words`)."""
    return sorted(set().union(*map(words, texts)))


def read_words(lm_dir: str | Path) -> list[str] | None:
    """The words of the LM in ``lm_dir``'s training corpus, or None when it has no list."""
    path = Path(lm_dir) / WORDS_FILE
    if not path.is_file():
        return None
    return path.read_text().split()


class WordGrounder:
    """Replaces the words of a text outside ``known`` with MiniLM's nearest known word.

    Args:
        known: the words the Say was trained on (lower case).
        encoder: a MiniLM name or folder (:func:`vla.language.resolve_model_dir`), or a
            loaded :class:`vla.language.SentenceEncoder` to share.
        shortlist: known words (nearest by their own embedding) compared in context.
        layers: they are compared by their states after this many of MiniLM's layers.
        context: MiniLM reads this many words (and punctuation marks) each side of the word
            (None: the whole text); fewer cost less.
        pairs: the corpus's word pairs; None compares meaning alone.
        fluency: the weight of the pairs' log-probabilities.
    """

    def __init__(
        self,
        known: Sequence[str],
        encoder: str | SentenceEncoder = DEFAULT_ENCODER,
        shortlist: int = SHORTLIST,
        pairs: WordPairs | None = None,
        fluency: float = FLUENCY,
        layers: int = WORD_LAYERS,
        context: int | None = WORD_CONTEXT,
    ) -> None:
        if not known:
            raise ValueError("WordGrounder needs a non-empty vocabulary of known words")
        self.known = sorted({w.lower() for w in known})
        self._known_set = frozenset(self.known)
        self.shortlist = min(shortlist, len(self.known))
        self.pairs = pairs
        self.fluency = fluency
        self.layers = layers
        self.context = context
        self.encoder = encoder if isinstance(encoder, SentenceEncoder) else SentenceEncoder(encoder)
        self._known_vectors = self.encoder.encode(self.known)  # once, not at the first step
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._bf16 = native_bf16()

    def ground(self, text: str) -> str:
        """``text`` with each unknown word replaced (spacing and punctuation kept)."""
        if text in self._cache:
            self._cache.move_to_end(text)
            return self._cache[text]
        parts = re.split(r"([A-Za-z]+)", text)  # odd indices: words
        for index in range(1, len(parts), 2):
            if parts[index].lower() not in self._known_set:
                parts[index] = self._replacement(parts, index)
        grounded = "".join(parts)
        self._cache[text] = grounded
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return grounded

    def unseen(self, text: str) -> list[str]:
        """The words of ``text`` that :meth:`ground` replaces (lower case, sorted); it embeds
        each alone to shortlist its candidates."""
        return sorted(words(text) - self._known_set)

    def _shortlist(self, word: str) -> list[str]:
        near = self._known_vectors @ self.encoder.encode([word.lower()])[0]
        return [self.known[i] for i in near.topk(self.shortlist).indices.tolist()]

    @torch.no_grad()
    def _replacement(self, parts: list[str], index: int) -> str:
        """The known word whose state, read in ``parts[index]``'s place and context, is
        closest to ``parts[index]``'s (and, with pairs, that stands most readily between its
        neighbours)."""
        candidates = self._shortlist(parts[index])
        left, right = self._context(parts, index)
        states = substitute_states(
            self.encoder, left, parts[index], right, candidates, self.layers, self._bf16
        )
        score = states[1:] @ states[0]
        if self.pairs is not None:
            score = score + self.fluency * self._fit(parts, index, candidates)
        return candidates[int(score.argmax())]

    def _context(self, parts: list[str], index: int) -> tuple[list[str], list[str]]:
        """The words and punctuation marks MiniLM reads left and right of ``parts[index]``
        (``context`` of them each side)."""
        left = _PIECES.findall("".join(parts[:index]))
        right = _PIECES.findall("".join(parts[index + 1 :]))
        if self.context is None:
            return left, right
        return left[max(0, len(left) - self.context) :], right[: self.context]

    def _fit(self, parts: list[str], index: int, candidates: list[str]) -> torch.Tensor:
        """log P(candidate | left word) + log P(right word | candidate) under the pairs; the
        right word counts only when it is known (it may be the next word to replace)."""
        assert self.pairs is not None
        left = parts[index - 2].lower() if index > 1 else START
        right = parts[index + 2].lower() if index + 2 < len(parts) else END
        known_right = right == END or right in self._known_set
        fits = [
            self.pairs.log_prob(left, c) + (self.pairs.log_prob(c, right) if known_right else 0)
            for c in candidates
        ]
        return torch.tensor(fits)


def grounded(
    scorer: LanguageScorer,
    lm_dir: str | Path,
    ground_words: bool | None,
    ground_sentences: bool | None = None,
    average_readings: bool = False,
) -> LanguageScorer:
    """``scorer`` with its instructions grounded in the LM in ``lm_dir``: as its closest
    trained instruction (:mod:`vla.planning.sentences`) when ``ground_sentences`` is None and
    the LM has its instructions, or True; in its words when ``ground_words`` is None and the LM
    has a word list, or True. Never what is False. ``average_readings``: see
    :class:`GroundedScorer`."""
    known = None if ground_words is False else read_words(lm_dir)
    if known is None and ground_words:
        raise ValueError(f"planner.ground_words=true: {lm_dir} has no {WORDS_FILE}")
    sentences = None if ground_sentences is False else TrainedInstructions.read(lm_dir)
    if sentences is None and ground_sentences:
        raise ValueError(f"planner.ground_sentences=true: {lm_dir} has no {SENTENCES_FILE}")
    if known is None and sentences is None:
        return scorer
    encoder = sentences.encoder if sentences is not None else DEFAULT_ENCODER  # one MiniLM
    grounder = WordGrounder(known, encoder, pairs=WordPairs.read(lm_dir)) if known else None
    return GroundedScorer(scorer, grounder, sentences, average_readings)


class GroundedScorer:
    """A scorer whose prompts have their instruction lines grounded first (the options, the
    simulator's own skill texts, are scored as they are).

    An instruction with a word the LM never saw is read, with ``sentences``, as its closest
    trained instruction; with its words grounded where no trained instruction names the same
    things (or without ``sentences``). With ``average``, it is read both ways and the option
    scores are the mean of the wrapped scorer's log-probabilities under the two readings.
    """

    def __init__(
        self,
        scorer: LanguageScorer,
        grounder: WordGrounder | None,
        sentences: TrainedInstructions | None = None,
        average: bool = False,
    ) -> None:
        if grounder is None and sentences is None:
            raise ValueError("GroundedScorer needs a word grounder or trained instructions")
        self.scorer = scorer
        self.grounder = grounder
        self.sentences = sentences
        self.average = average
        self._known = frozenset(grounder.known) if grounder else sentences.words()
        self._readings: dict[str, list[str]] = {}

    def readings(self, instruction: str) -> list[str]:
        """How the LM reads ``instruction``: as it is when every word is known; else as the
        closest trained instruction, or with its words grounded where there is none (with
        ``average``: both)."""
        if words(instruction) <= self._known:
            return [instruction]
        if instruction not in self._readings:
            self._embed_at_once(instruction)
            near = self.sentences.nearest(instruction) if self.sentences else None
            read = [near] if near is not None else []
            if self._reads_words(has_sentence=near is not None):
                read = list(dict.fromkeys([self.grounder.ground(instruction), *read]))
            if len(self._readings) >= _CACHE_SIZE:
                self._readings.clear()
            self._readings[instruction] = read or [instruction]
        return self._readings[instruction]

    def _reads_words(self, has_sentence: bool) -> bool:
        """Whether an instruction is also (``average``) or instead (no closest sentence) read
        with its words grounded."""
        return self.grounder is not None and (self.average or not has_sentence)

    def _embed_at_once(self, instruction: str) -> None:
        """Embed the sentence query of ``instruction`` and the unseen words that will be
        grounded in one MiniLM batch (the grounders then find them in the encoder's cache):
        one pass of a few short texts costs little more than one of them (the same readings,
        checked on 529 held-out instructions)."""
        fits = self.sentences is not None and self.sentences.fits(instruction)
        texts = self.grounder.unseen(instruction) if self._reads_words(fits) else []
        query = self.sentences.query(instruction) if fits else None
        texts += [query] if query is not None else []
        encoders = {id(g.encoder): g.encoder for g in (self.grounder, self.sentences) if g}
        if len(encoders) == 1 and texts:
            next(iter(encoders.values())).encode(texts)

    def prompts(self, prompt: str) -> list[str]:
        """``prompt`` once per reading of its instruction lines (a line with fewer readings
        keeps its last)."""
        lines = prompt.split("\n")
        readings = {
            i: self.readings(line[len(INSTRUCTION) :])
            for i, line in enumerate(lines)
            if line.startswith(INSTRUCTION)
        }
        out = []
        for k in range(max(map(len, readings.values()), default=1)):
            for i, read in readings.items():
                lines[i] = INSTRUCTION + read[min(k, len(read) - 1)]
            out.append("\n".join(lines))
        return out

    def score(self, prompt: str, options: Sequence[str]) -> list[float]:
        """The mean of the wrapped scorer's log-probabilities over the prompt's readings."""
        rows = [self.scorer.score(text, options) for text in self.prompts(prompt)]
        return [sum(column) / len(rows) for column in zip(*rows, strict=True)]
