"""Sentence grounding: a new wording is also read as the closest trained instruction.

Word grounding (:mod:`vla.planning.grounding`) replaces an unseen word by one known word. A
phrase the Say never saw ("match each block with the bowl of its colour", "everything else
goes in ...", "let the red block and the blue block trade places") needs a whole sentence of
its own words instead. MiniLM finds it among the instructions of the LM's training corpus:

1. Names are set aside first (delexicalised): the k-th colour named becomes the k-th of the
   simulator's colours, the k-th place the k-th of its places, so that "unload the azure
   bowl" reads "unload the red bowl", and a trained sentence about any colours can match.
2. Only trained sentences that name the same things in the same order, each followed by the
   same kind of object (block, bowl or "one"), and the same mobile areas (the table, the
   counter, under any of their names) are candidates: the sentence found may change the
   words around the names, never which names it mentions or where.
3. Of those, only the ones that say the opposite of the instruction in the fewest ways
   (:mod:`vla.planning.opposites`: negated where it is not, an antonym such as "bottom" for
   its "top", "stack" for its "unstack") stay candidates: sentence embeddings read "make sure
   the red block is no longer on the green block" as close to "set the block that is on the
   red block on the green block" as to "make sure the red block is not on the green block".
   These are closed classes of English words, not a vocabulary of ours.
4. Of the ``shortlist`` candidates whose MiniLM sentence embeddings are closest, the one
   whose word pieces align best with the instruction's (BERTScore F1 over MiniLM's
   contextual states) is returned with the original names put back. Sentence embeddings
   alone read "put X into the bowl" and "take X out of the bowl" as near twins; aligning
   the word pieces tells them apart more often (not always).

The trained instructions are never written by hand: ``vla-train-lm`` writes them (and their
embeddings) beside the LM. The names are the simulator's own colour and place vocabulary
(:mod:`sim.tasks.paraphrase`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from planners.prompt import instructions_in
from sim.tasks import paraphrase
from vla.language import DEFAULT_ENCODER, SentenceEncoder, native_bf16
from vla.planning.lm import SENTENCE_VECTORS_FILE, SENTENCES_FILE
from vla.planning.opposites import clashes, marks
from vla.planning.splits import word_list

COLOURS = tuple(paraphrase.COLOR_SYNONYMS)
PLACES = tuple(paraphrase.PLACE_SYNONYMS)
_COLOUR_OF = {s: c for c, synonyms in paraphrase.COLOR_SYNONYMS.items() for s in (c, *synonyms)}
_PLACE_OF = {s: p for p, synonyms in paraphrase.PLACE_SYNONYMS.items() for s in (p, *synonyms)}
_TYPE_OF = {s: t for t, synonyms in paraphrase.TYPE_SYNONYMS.items() for s in (t, *synonyms)}
_AREA_OF = {s: a for a, synonyms in paraphrase.AREA_SYNONYMS.items() for s in (a, *synonyms)}
_TYPE_OF["one"] = "one"
SHORTLIST = 12  # sentences re-ranked by word-piece alignment (validation seeds)
ALIGN_LAYERS = 3  # MiniLM layers whose states align the word pieces (validation seeds)
# The candidates that go through the last align layer: of 1,144 instructions, the sentence
# that aligns best after 3 layers was never worse than fifth after 2.
CASCADE = 5
WARM_TOKENS = 48  # the re-ranking's kernels are built for texts up to this long at the start


def _names(names: Iterable[str]) -> str:
    """A regex alternation of ``names``, longest first, as whole words."""
    return "|".join(sorted(map(re.escape, names), key=len, reverse=True))


_NAME = re.compile(rf"\b(?:(?P<place>{_names(_PLACE_OF)})|(?P<colour>{_names(_COLOUR_OF)}))\b")
_CANONICAL = re.compile(rf"\b(?:(?P<place>{_names(PLACES)})|(?P<colour>{_names(COLOURS)}))\b")
_TYPE = re.compile(rf"\s+({_names(_TYPE_OF)})\b")
_MENTION = re.compile(
    rf"\b(?:(?P<name>{_names((*PLACES, *COLOURS))})|(?P<area>{_names(_AREA_OF)}))\b"
)


@dataclass(frozen=True)
class Delexicalised:
    """A sentence with its names replaced by the simulator's first colours and places."""

    text: str
    colours: tuple[str, ...]  # the names as written, in order of first mention
    places: tuple[str, ...]
    mentions: tuple[tuple[str, str], ...]  # (canonical name, kind of object after it, or "")


def delexicalise(text: str) -> Delexicalised:
    """``text`` (lower-cased) with the k-th colour and place it names replaced by
    ``COLOURS[k]`` and ``PLACES[k]``; a name repeated under a synonym counts once."""
    colours: dict[str, str] = {}  # canonical -> as written (first time)
    places: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        kind, table, seen, canon = (
            ("place", _PLACE_OF, places, PLACES)
            if match.group("place")
            else ("colour", _COLOUR_OF, colours, COLOURS)
        )
        name = table[match.group(kind)]
        seen.setdefault(name, match.group(kind))
        return canon[list(seen).index(name)]

    out = _NAME.sub(replace, text.lower())
    mentions = []
    for match in _MENTION.finditer(out):
        if match.group("area"):  # kept as written: the sentence found must name the same area
            mentions.append((_AREA_OF[match.group("area")], "area"))
            continue
        kind = _TYPE.match(out, match.end())
        mentions.append((match.group(0), _TYPE_OF[kind.group(1)] if kind else ""))
    return Delexicalised(out, tuple(colours.values()), tuple(places.values()), tuple(mentions))


def _unplaced(text: str) -> str:
    """``text`` (delexicalised) without its place names, whose words are no directions."""
    return _CANONICAL.sub(lambda m: "" if m.group("place") else m.group(0), text)


def relexicalise(text: str, names: Delexicalised) -> str:
    """``text`` (delexicalised) with the names of ``names`` put back."""

    def replace(match: re.Match[str]) -> str:
        if match.group("place"):
            return names.places[PLACES.index(match.group("place"))]
        return names.colours[COLOURS.index(match.group("colour"))]

    return _CANONICAL.sub(replace, text)


def corpus_instructions(texts: Iterable[str]) -> list[str]:
    """The distinct delexicalised ``instruction:`` lines of the corpus ``texts``, sorted."""
    return sorted({delexicalise(i).text for text in texts for i in instructions_in(text)})


class TrainedInstructions:
    """The LM's delexicalised training instructions and their MiniLM sentence embeddings.

    Args:
        sentences: delexicalised instructions (:func:`corpus_instructions`).
        vectors: their embeddings, (len(sentences), dim), L2-normalised; None computes them.
        encoder: a MiniLM name or folder (:func:`vla.language.resolve_model_dir`), or a
            loaded :class:`vla.language.SentenceEncoder` to share.
        shortlist: the sentences closest by embedding that are re-ranked by how well their
            word pieces align with the instruction's (BERTScore).
        align_layers: the word pieces are aligned by their states after this many of
            MiniLM's layers (fewer cost less; the last layer's states align worse).
        cascade: only this many candidates, the best after one layer fewer, go through the
            last (float32 only; 0: all of them).
    """

    def __init__(
        self,
        sentences: Sequence[str],
        vectors: torch.Tensor | None = None,
        encoder: str | SentenceEncoder = DEFAULT_ENCODER,
        shortlist: int = SHORTLIST,
        align_layers: int = ALIGN_LAYERS,
        cascade: int = CASCADE,
    ) -> None:
        if not sentences:
            raise ValueError("TrainedInstructions needs at least one instruction")
        self.sentences = list(sentences)
        self.shortlist = shortlist
        self.align_layers = align_layers
        self.cascade = cascade
        self._bf16 = native_bf16()  # the states in bf16 where the CPU has it (same choices)
        if not isinstance(encoder, SentenceEncoder):  # float16 weights where bf16 is not native
            encoder = SentenceEncoder(encoder, half_weights=not self._bf16)
        self.encoder = encoder
        if vectors is None:
            vectors = torch.cat(
                [self.encoder.encode(self.sentences[i : i + 256]) for i in range(0, len(self), 256)]
            )
        if vectors.shape[0] != len(self.sentences):
            raise ValueError(
                f"{vectors.shape[0]} sentence vectors for {len(self.sentences)} instructions; "
                f"delete {SENTENCE_VECTORS_FILE} to compute them again"
            )
        self.vectors = vectors.float()
        self._by_mentions: dict[tuple, list[int]] = {}
        for i, sentence in enumerate(self.sentences):
            self._by_mentions.setdefault(delexicalise(sentence).mentions, []).append(i)
        self._marks = [marks(_unplaced(sentence)) for sentence in self.sentences]
        self._last_candidates: tuple[str | None, list[int]] = (None, [])
        self.encoder.warm_up(align_layers, 1 + shortlist, WARM_TOKENS, self._bf16)

    def __len__(self) -> int:
        return len(self.sentences)

    def words(self) -> frozenset[str]:
        """The words of the trained instructions and of every name set aside from them."""
        names = (*_COLOUR_OF, *_PLACE_OF)
        return frozenset(w for text in (*self.sentences, *names) for w in word_list(text))

    @classmethod
    def read(cls, lm_dir: str | Path) -> TrainedInstructions | None:
        """The instructions beside the LM in ``lm_dir`` (None when it has none); their vectors
        from the safetensors file beside them, or computed when it is missing."""
        from safetensors.torch import load_file

        path = Path(lm_dir) / SENTENCES_FILE
        if not path.is_file():
            return None
        vectors_path = Path(lm_dir) / SENTENCE_VECTORS_FILE
        vectors = load_file(str(vectors_path))["vectors"] if vectors_path.is_file() else None
        return cls(path.read_text().splitlines(), vectors)

    def write(self, lm_dir: str | Path) -> None:
        """Writes the instructions (one a line) and their vectors (float16) into ``lm_dir``
        (int8 vectors, a quarter of the size, changed the sentence found for 17 of 270
        held-out validation instructions, some to the opposite meaning)."""
        from safetensors.torch import save_file

        (Path(lm_dir) / SENTENCES_FILE).write_text("\n".join(self.sentences) + "\n")
        vectors = self.vectors.to(torch.float16).contiguous()
        save_file({"vectors": vectors}, str(Path(lm_dir) / SENTENCE_VECTORS_FILE))

    def fits(self, text: str) -> bool:
        """Whether some trained instruction names the same things as ``text`` in its order."""
        return delexicalise(text).mentions in self._by_mentions

    def query(self, text: str) -> str | None:
        """What :meth:`nearest` embeds for ``text`` (its names set aside); None when it embeds
        nothing: no trained instruction fits, or no more than ``shortlist`` do (all are
        re-ranked)."""
        names = delexicalise(text)
        return names.text if len(self._candidates(names)) > self.shortlist else None

    @torch.no_grad()
    def nearest(self, text: str) -> str | None:
        """The trained instruction closest to ``text`` that names the same things in the same
        order (and says its opposite in the fewest ways), with ``text``'s names put back; None
        when no trained instruction names them."""
        names = delexicalise(text)
        fits = self._candidates(names)
        if not fits:
            return None
        if len(fits) > self.shortlist:  # the closest by sentence embedding are re-ranked
            closeness = self.vectors[fits] @ self.encoder.encode([names.text])[0]
            fits = [fits[i] for i in closeness.topk(self.shortlist).indices.tolist()]
        shortlist = [self.sentences[i] for i in fits]
        best = shortlist[self._best(names.text, shortlist)]
        return relexicalise(best, names)

    def _candidates(self, names: Delexicalised) -> list[int]:
        """The trained instructions that name ``names``' things in its order and, of those,
        say its opposite in the fewest ways (the last text's are kept: :meth:`query`, then
        :meth:`nearest`, ask for the same; up to 7 ms for the largest group)."""
        if self._last_candidates[0] != names.text:
            fits = self._by_mentions.get(names.mentions, [])
            mine = marks(_unplaced(names.text))
            counts = [clashes(mine, self._marks[i]) for i in fits]
            fewest = min(counts, default=0)
            kept = [i for i, n in zip(fits, counts, strict=True) if n == fewest]
            self._last_candidates = (names.text, kept)
        return self._last_candidates[1]

    def _best(self, text: str, candidates: list[str]) -> int:
        """The index of the candidate whose word pieces align best with ``text``'s after
        ``align_layers`` layers. In float32, all but the last layer run for every candidate
        and the last only for the ``cascade`` best by then: the same choice, a fifth sooner."""
        texts = [text, *candidates]
        if self._bf16 or not 1 <= self.cascade < len(candidates) or self.align_layers < 2:
            states, batch = self.encoder.token_states(
                texts, self.align_layers, self._bf16, pad=True
            )
            return int(_alignment(states, batch["attention_mask"]).argmax())
        states, batch = self.encoder.token_states(texts, self.align_layers - 1, pad=True)
        mask = batch["attention_mask"]
        keep = _alignment(states, mask).topk(self.cascade).indices
        rows = torch.cat([keep.new_zeros(1), keep + 1])  # the instruction, then the best
        layers = (self.align_layers - 1, self.align_layers)
        last = self.encoder.more_layers(states[rows], mask[rows], *layers)
        return int(keep[_alignment(last, mask[rows]).argmax()])


def _alignment(states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """BERTScore F1 of each row of ``states`` after the first against the first: each word
    piece of one sentence matched to the most alike of the other's by MiniLM's contextual
    states."""
    states = torch.nn.functional.normalize(states, dim=-1)
    lengths = attention_mask.sum(dim=1).tolist()
    pieces = [states[row, 1 : n - 1] for row, n in enumerate(lengths)]  # no CLS, SEP
    scores = []
    for other in pieces[1:]:
        alike = pieces[0] @ other.T
        precision, recall = alike.max(dim=0).values.mean(), alike.max(dim=1).values.mean()
        scores.append(2 * precision * recall / (precision + recall))
    return torch.stack(scores)
