"""Weighted sampling of training steps (vla.training.sampling)."""

import numpy as np
import pytest

from vla.training.sampling import WeightedEpochSampler, episode_weight, item_weights


class Records:
    """An episode index by id: the part of an EpisodeStore that weighting reads."""

    def __init__(self, records: list[dict]) -> None:
        self.records = records

    def record(self, episode_id: int) -> dict:
        return self.records[episode_id]


STORE = Records(
    [
        {"family": "structured", "skill": "pick"},
        {"family": "structured", "skill": "place_on"},
        {"family": "long_horizon", "skill": "place_on"},
    ]
)


def test_an_episode_weighs_the_product_of_the_patterns_it_matches():
    patterns = {"*/place_on": 2.0, "long_horizon/*": 3.0}
    assert [episode_weight(STORE.record(i), patterns) for i in range(3)] == [1.0, 2.0, 6.0]
    items = np.array([0, 0, 1, 2, 2, 2])
    assert item_weights(STORE, items, patterns).tolist() == [1, 1, 2, 6, 6, 6]


def test_a_pattern_that_matches_no_episode_is_an_error():
    with pytest.raises(ValueError, match="'\\*/place_in' matches no training episode"):
        item_weights(STORE, np.array([0, 1]), {"*/place_in": 2.0})


def test_draws_follow_the_weights_and_are_a_function_of_seed_and_epoch():
    weights = [1.0] * 50 + [3.0] * 50  # the second half should get 75% of the draws
    sampler = WeightedEpochSampler(weights, world_size=1, rank=0, seed=7)
    counts = np.zeros(100)
    for epoch in range(200):
        sampler.set_epoch(epoch)
        draws = list(sampler)
        assert len(draws) == len(sampler) == 100
        np.add.at(counts, draws, 1)
    assert abs(counts[50:].sum() / counts.sum() - 0.75) < 0.01
    again = WeightedEpochSampler(weights, world_size=1, rank=0, seed=7)
    again.set_epoch(3)
    sampler.set_epoch(3)
    assert list(again) == list(sampler)
    sampler.set_epoch(4)
    assert list(again) != list(sampler)


def test_ranks_share_out_one_draw():
    weights = np.arange(1, 11, dtype=float)
    whole = WeightedEpochSampler(weights, world_size=1, rank=0, seed=1)
    ranks = [WeightedEpochSampler(weights, world_size=2, rank=r, seed=1) for r in (0, 1)]
    dealt = np.empty(10, int)
    dealt[0::2], dealt[1::2] = list(ranks[0]), list(ranks[1])
    assert dealt.tolist() == list(whole)


def test_no_drawable_item_is_an_error():
    with pytest.raises(ValueError, match="positive weights"):
        WeightedEpochSampler([0.0, 0.0], world_size=1, rank=0, seed=0)
