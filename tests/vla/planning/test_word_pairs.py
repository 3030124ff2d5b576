"""The corpus's word pairs: counted from instruction lines, saved and read back, smoothed."""

import math
from collections import Counter

import pytest

from vla.planning.lm import PAIRS_FILE
from vla.planning.word_pairs import END, START, WordPairs

CORPUS = [
    "instruction: Put the red block in the bowl\nobjects: red block\n1. pick up the red block",
    "instruction: put the green block on the red block\n1. done",
]


def test_pairs_are_counted_from_instruction_lines_only():
    pairs = WordPairs.from_texts(CORPUS)
    assert pairs.counts[START, "put"] == 2 and pairs.counts["red", "block"] == 2
    assert pairs.counts["bowl", END] == 1 and pairs.counts["block", END] == 1
    assert ("pick", "up") not in pairs.counts  # a skill line, not an instruction
    assert ("objects", "red") not in pairs.counts


def test_log_prob_is_add_alpha_smoothed_and_a_seen_pair_beats_an_unseen_one():
    pairs = WordPairs(Counter({("the", "red"): 3, ("the", "green"): 1}), alpha=1.0)
    vocabulary = 2  # "the" starts a pair, and END
    assert pairs.log_prob("the", "red") == pytest.approx(math.log(4 / (4 + vocabulary)))
    assert pairs.log_prob("the", "blue") == pytest.approx(math.log(1 / (4 + vocabulary)))
    assert pairs.log_prob("the", "red") > pairs.log_prob("the", "green")
    assert pairs.log_prob("never", "seen") == pytest.approx(math.log(1 / vocabulary))


def test_pairs_round_trip_through_their_file_and_add(tmp_path):
    assert WordPairs.read(tmp_path) is None
    pairs = WordPairs.from_texts(CORPUS)
    pairs.write(tmp_path)
    assert (tmp_path / PAIRS_FILE).read_text().splitlines()[0] == f"{START} put 2"
    again = WordPairs.read(tmp_path)
    assert again is not None and again.counts == pairs.counts
    assert (pairs + again).counts["red", "block"] == 4
    with pytest.raises(ValueError, match="at least one"):
        WordPairs(Counter())
