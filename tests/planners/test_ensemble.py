"""An ensemble Say: the weighted mean of its members' log-probabilities, read from a folder."""

import json

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from planners.ensemble import ENSEMBLE_FILE, EnsembleScorer, lm_scorer, read_members
from planners.hf_scorer import HFScorer

OPTIONS = [" pick up the red block \n", " done \n", " place the red block in the blue bowl \n"]
PROMPT = "instruction : pick up the red block \n 1 ."


class Constant:
    def __init__(self, values: list[float]) -> None:
        self.values = values

    def score(self, prompt, options):
        return self.values[: len(options)]


def test_scores_are_the_weighted_mean_of_the_members():
    ensemble = EnsembleScorer([Constant([-1.0, -4.0]), Constant([-3.0, -0.0])], [3, 1])
    assert ensemble.weights == [0.75, 0.25]
    assert ensemble.score("p", ["a", "b"]) == pytest.approx([-1.5, -3.0])
    with pytest.raises(ValueError, match="positive"):
        EnsembleScorer([Constant([0.0])], [0.0])
    with pytest.raises(ValueError, match="one weight per scorer"):
        EnsembleScorer([Constant([0.0])], [1.0, 1.0])


def _save_lm(folder, seed: int, tokenizer) -> None:
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=32, n_embd=16, n_layer=1, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def test_a_folder_with_an_ensemble_file_scores_with_every_member(tmp_path, word_tokenizer):
    _save_lm(tmp_path, 0, word_tokenizer)
    _save_lm(tmp_path / "second", 1, word_tokenizer)
    assert read_members(tmp_path) is None
    assert isinstance(lm_scorer(tmp_path), HFScorer)  # no ensemble file: the model alone
    members = [{"path": ".", "weight": 0.75}, {"path": "second", "weight": 0.25}]
    (tmp_path / ENSEMBLE_FILE).write_text(json.dumps({"members": members}))
    scorer = lm_scorer(tmp_path)
    first = HFScorer(tmp_path).score(PROMPT, OPTIONS)
    second = HFScorer(tmp_path / "second").score(PROMPT, OPTIONS)
    assert first != pytest.approx(second)  # two different models
    expected = [0.75 * a + 0.25 * b for a, b in zip(first, second)]
    assert scorer.score(PROMPT, OPTIONS) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not a valid ensemble file"),
        ('{"members": [{"path": "."}]}', "not a valid ensemble file"),
        ('{"members": [{"path": "../elsewhere", "weight": 1}]}', "outside"),
    ],
)
def test_a_bad_ensemble_file_is_named(tmp_path, text, message):
    (tmp_path / ENSEMBLE_FILE).write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        read_members(tmp_path)
    assert "\n" not in str(error.value)
