"""Say training data as arrays, the MiniLM token states of its texts, and batches.

:class:`StepArrays` holds steps (:class:`vla.planning.say.examples.SayStep`) as text ids:
``instruction`` (N,), and ``objects``, ``facts``, ``now``, ``candidates`` (N, width) padded
with -1, ``target`` (N,). :class:`TextBank` holds the token states of every text, float16,
concatenated (sum of T, 384) with offsets; it is saved as safetensors plus a JSON list of
texts, so a later training stage encodes only its new texts.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from vla.planning.say.examples import SayStep
from vla.planning.say.features import TokenStates

FIELDS = ("objects", "facts", "now", "candidates")


@dataclass
class StepArrays:
    """Steps as text ids (see the module docstring); ``texts[i]`` is the text of id ``i``."""

    texts: list[str]
    instruction: np.ndarray
    objects: np.ndarray
    facts: np.ndarray
    now: np.ndarray
    candidates: np.ndarray
    target: np.ndarray
    family: list[str]

    @classmethod
    def from_steps(cls, steps: Sequence[SayStep]) -> StepArrays:
        ids: dict[str, int] = {}

        def of(text: str) -> int:
            return ids.setdefault(text, len(ids))

        def table(field: str) -> np.ndarray:
            rows = [[of(t) for t in getattr(s, field)] for s in steps]
            out = np.full((len(rows), max(1, max(map(len, rows)))), -1, dtype=np.int32)
            for i, row in enumerate(rows):
                out[i, : len(row)] = row
            return out

        instruction = np.array([of(s.instruction) for s in steps], dtype=np.int32)
        tables = {field: table(field) for field in FIELDS}
        target = np.array([s.target for s in steps], dtype=np.int64)
        return cls(
            list(ids), instruction, **tables, target=target, family=[s.family for s in steps]
        )

    def __len__(self) -> int:
        return len(self.target)

    @functools.cached_property
    def word_sets(self) -> list[set[str]]:
        """The words of each text (for choosing hard negatives)."""
        return [set(t.split()) for t in self.texts]


class TextBank:
    """Token states of texts, float16 (see the module docstring)."""

    def __init__(self, texts: list[str], states: torch.Tensor, offsets: torch.Tensor) -> None:
        self.texts, self.states, self.offsets = texts, states, offsets
        self.index = {t: i for i, t in enumerate(texts)}

    @classmethod
    def build(cls, texts: Sequence[str], encoder: TokenStates, old: TextBank | None = None):
        """States of ``texts``, taken from ``old`` where it has them, else encoded."""
        texts = list(dict.fromkeys(texts))
        known = old.index if old is not None else {}
        new = [t for t in texts if t not in known]
        fresh = dict(zip(new, encoder(new, progress=True)))
        parts = [fresh[t].half() if t in fresh else old.get(t) for t in texts]
        lengths = torch.tensor([0] + [len(p) for p in parts])
        return cls(texts, torch.cat(parts), torch.cumsum(lengths, 0))

    def get(self, text: str) -> torch.Tensor:
        i = self.index[text]
        return self.states[self.offsets[i] : self.offsets[i + 1]]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_file({"states": self.states, "offsets": self.offsets}, folder / "bank.safetensors")
        (folder / "bank.json").write_text(json.dumps(self.texts))

    @classmethod
    def load(cls, folder: Path) -> TextBank | None:
        if not (folder / "bank.json").is_file():
            return None
        tensors = load_file(folder / "bank.safetensors")
        texts = json.loads((folder / "bank.json").read_text())
        return cls(texts, tensors["states"], tensors["offsets"])


def pad_states(states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, T_max, dim) float32 states and (N, T_max) valid mask from ragged (T_i, dim)."""
    width = max(len(s) for s in states)
    out = torch.zeros(len(states), width, states[0].shape[1])
    mask = torch.zeros(len(states), width, dtype=torch.bool)
    for i, s in enumerate(states):
        out[i, : len(s)] = s.float()
        mask[i, : len(s)] = True
    return out, mask


def make_batch(
    data: StepArrays,
    bank: TextBank,
    rows: Sequence[int],
    negatives: int | None = None,
    rng: random.Random | None = None,
    hard: float = 0.0,
) -> dict[str, torch.Tensor]:
    """Model inputs for ``rows`` of ``data`` (keyword arguments of ``SayHead.forward``) and
    ``target`` (B,). ``negatives``: keep the target and at most this many other candidates
    per step, else all of them; a share ``hard`` of them are those sharing the most words
    with the target (the place of the same block elsewhere, the pick of another block), the
    rest drawn at random with ``rng``."""
    rows = list(rows)
    candidates, target = _candidates(data, rows, negatives, rng or random.Random(0), hard)
    fields = {f: data.__dict__[f][rows] for f in FIELDS[:3]}
    fields["candidates"] = candidates
    used = np.unique(np.concatenate([a[a >= 0] for a in fields.values()]))
    remap = np.full(len(data.texts), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    phrases, phrase_mask = pad_states([bank.get(data.texts[i]) for i in used])
    instruction, instruction_mask = pad_states(
        [bank.get(data.texts[i]) for i in data.instruction[rows]]
    )
    out = {
        k: torch.from_numpy(np.where(a >= 0, remap[np.maximum(a, 0)], -1))
        for k, a in fields.items()
    }
    return {
        "instruction": instruction, "instruction_mask": instruction_mask, "phrases": phrases,
        "phrase_mask": phrase_mask, **out, "target": torch.from_numpy(target),
    }  # fmt: skip


def _candidates(data: StepArrays, rows: list[int], negatives, rng: random.Random, hard: float):
    """Candidate ids per row (the target kept) and the target's column."""
    if negatives is None:
        return data.candidates[rows], data.target[rows]
    width = negatives + 1
    out = np.full((len(rows), width), -1, dtype=np.int32)
    target = np.zeros(len(rows), dtype=np.int64)
    words = data.word_sets if hard else None
    for i, row in enumerate(rows):
        ids = data.candidates[row]
        goal = int(data.target[row])
        others = [c for c in range(len(ids)) if ids[c] >= 0 and c != goal]
        rng.shuffle(others)
        if words is not None:
            near = sorted(others, key=lambda c: -len(words[ids[c]] & words[ids[goal]]))
            close = near[: round(hard * negatives)]
            others = close + [c for c in others if c not in close]
        chosen = others[:negatives] + [goal]
        rng.shuffle(chosen)
        out[i, : len(chosen)] = data.candidates[row, chosen]
        target[i] = chosen.index(int(data.target[row]))
    return out, target
