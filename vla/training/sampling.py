"""Weighted sampling of training steps by the skill and task family of their episodes.

``vla-train "+sample_weights={*/place_on: 2, long_horizon/pick: 1.5}"`` draws each epoch's
items with replacement, an item's chance proportional to the weight of its episode: the
product of the weights of every pattern (``fnmatch``, e.g. ``structured/*``) that matches the
episode's ``family/skill``; 1 where none matches. The draw is a pure function of (seed, epoch),
so resuming stays exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fnmatch import fnmatchcase

import numpy as np

from vla.data.episode_store import EpisodeStore


def family_skill(record: Mapping) -> str:
    """An episode's ``family/skill``, the name the patterns match."""
    return f"{record.get('family')}/{record.get('skill')}"


def episode_weight(record: Mapping, patterns: Mapping[str, float]) -> float:
    """The product of the weights of the patterns matching ``family/skill`` (1 if none)."""
    name = family_skill(record)
    return float(np.prod([w for p, w in patterns.items() if fnmatchcase(name, p)] or [1.0]))


def item_weights(
    store: EpisodeStore, item_episodes: np.ndarray, patterns: Mapping[str, float]
) -> np.ndarray:
    """Each training item's weight, from the episode it belongs to; a pattern that matches no
    episode is an error (a typo would silently weight nothing)."""
    episodes = np.unique(item_episodes)
    records = {int(e): store.record(int(e)) for e in episodes}
    names = {family_skill(r) for r in records.values()}
    unused = [p for p in patterns if not any(fnmatchcase(n, p) for n in names)]
    if unused:
        raise ValueError(
            f"sample_weights: {unused[0]!r} matches no training episode; patterns match "
            f"family/skill, e.g. {sorted(names)[0]!r}"
        )
    weight = {e: episode_weight(r, patterns) for e, r in records.items()}
    return np.array([weight[int(e)] for e in item_episodes], np.float64)


class WeightedEpochSampler:
    """``DistributedSampler``'s interface (``set_epoch``, iteration, ``rank``) over draws with
    replacement: an epoch is ``len(weights)`` draws (rounded down to whole ranks), each item
    with probability proportional to its weight, dealt out to the ranks in turn."""

    def __init__(self, weights: Sequence[float], world_size: int, rank: int, seed: int) -> None:
        weights = np.asarray(weights, np.float64)
        if len(weights) == 0 or not np.all(weights >= 0) or weights.sum() <= 0:
            raise ValueError("sample_weights: give positive weights (no item can be drawn)")
        self.p = weights / weights.sum()
        self.world_size, self.rank, self.seed, self.epoch = world_size, rank, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.p) // self.world_size

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        draws = rng.choice(len(self.p), size=len(self) * self.world_size, p=self.p)
        return iter(draws[self.rank :: self.world_size].tolist())
