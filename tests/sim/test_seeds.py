"""The three seed ranges: training data, test figures, validation choices."""

import pytest

from sim import TEST_SEED_START, VAL_SEED_START, seed_range


def test_seed_ranges_meet_at_their_starts():
    assert [seed_range(s) for s in (0, TEST_SEED_START - 1, TEST_SEED_START)] == [
        "train",
        "train",
        "test",
    ]
    assert seed_range(VAL_SEED_START - 1) == "test"
    assert seed_range(VAL_SEED_START) == seed_range(10**9) == "validation"
    with pytest.raises(ValueError, match=">= 0"):
        seed_range(-1)
