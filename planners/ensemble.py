"""Several language models as one Say: a weighted mean of their log-probabilities.

An LM folder with an ``ensemble.json`` beside its own model is read as an ensemble of that
model and the models in its subfolders::

    {"members": [{"path": ".", "weight": 0.75}, {"path": "stage22", "weight": 0.25}]}

Each option's score is ``sum_i w_i log p_i(option | prompt)`` with the weights divided by
their sum: a weighted product of the members' distributions (unnormalised), which keeps an
option only as likely as every member finds it. Paths are relative to the folder and stay
inside it; each member is a local Hugging Face causal LM folder (:class:`HFScorer`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from planners.scorer import LanguageScorer

ENSEMBLE_FILE = "ensemble.json"


class EnsembleScorer:
    """The weighted mean of ``scorers``' scores (weights > 0, divided by their sum)."""

    def __init__(self, scorers: Sequence[LanguageScorer], weights: Sequence[float]) -> None:
        if not scorers or len(scorers) != len(weights):
            raise ValueError(f"an ensemble needs one weight per scorer, got {len(weights)} "
                             f"weights for {len(scorers)} scorers")  # fmt: skip
        if not all(math.isfinite(w) and w > 0 for w in weights):
            raise ValueError(f"ensemble weights must be positive numbers, got {list(weights)}")
        total = sum(weights)
        self.scorers = list(scorers)
        self.weights = [w / total for w in weights]

    def score(self, prompt: str, options: Sequence[str]) -> list[float]:
        """Each option's weighted mean log-probability over the members."""
        columns = [scorer.score(prompt, options) for scorer in self.scorers]
        return [
            sum(w * s for w, s in zip(self.weights, row, strict=True))
            for row in zip(*columns, strict=True)
        ]


def read_members(folder: str | Path) -> list[tuple[Path, float]] | None:
    """(member folder, weight) of each member listed in ``folder``'s ``ensemble.json``; None
    when it has none. Raises ValueError naming what is wrong with the file."""
    folder = Path(folder).expanduser().resolve()
    path = folder / ENSEMBLE_FILE
    if not path.is_file():
        return None
    try:
        members = json.loads(path.read_text())["members"]
        pairs = [(str(m["path"]), float(m["weight"])) for m in members]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(
            f"{path} is not a valid ensemble file ({error}): write "
            '{"members": [{"path": ".", "weight": 1.0}, ...]}'
        ) from None
    out = []
    for relative, weight in pairs:
        member = (folder / relative).resolve()
        if not member.is_relative_to(folder):
            raise ValueError(f"{path}: member {relative!r} is outside {folder}; use a subfolder")
        out.append((member, weight))
    return out


def lm_scorer(folder: str | Path, reduction: str = "sum") -> LanguageScorer:
    """The Say of the LM in ``folder``: an :class:`HFScorer`, or an :class:`EnsembleScorer` of
    one per member when the folder has an ``ensemble.json``."""
    from planners.hf_scorer import HFScorer

    members = read_members(folder)
    if members is None:
        return HFScorer(folder, reduction=reduction)
    scorers = [HFScorer(member, reduction=reduction) for member, _ in members]
    return EnsembleScorer(scorers, [weight for _, weight in members])
