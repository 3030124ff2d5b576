"""The Hugging Face scorer: KV-cache reuse is exact; sum and mean differ as documented."""

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from planners import make_scorer
from planners.hf_scorer import HFScorer

WORDS = "instruction objects pick up place the red blue block bowl in on done 1 2 . : \n".split(" ")


@pytest.fixture(scope="module")
def tiny_lm():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    vocab = {"<unk>": 0, **{w: i + 1 for i, w in enumerate(WORDS)}, " ": len(WORDS) + 1}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(" ", behavior="removed")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>")
    config = GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=2, n_head=2)
    return GPT2LMHeadModel(config).eval(), tokenizer


OPTIONS = [" pick up the red block \n", " done \n", " place the red block in the blue bowl \n"]
PROMPT = "instruction : pick up the red block \n objects : red block blue bowl \n 1 ."


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("batch_size", [1, 2, 8])
def test_cache_reuse_matches_full_forward(tiny_lm, reduction, batch_size):
    model, tokenizer = tiny_lm
    scorer = HFScorer(model, tokenizer, reduction=reduction, batch_size=batch_size)
    cached = scorer.score(PROMPT, OPTIONS)
    naive = scorer.score_without_cache(PROMPT, OPTIONS)
    assert cached == pytest.approx(naive, abs=1e-4)


def test_sum_is_a_log_prob_and_mean_divides_by_length(tiny_lm):
    model, tokenizer = tiny_lm
    total = HFScorer(model, tokenizer, reduction="sum").score(PROMPT, OPTIONS)
    mean = HFScorer(model, tokenizer, reduction="mean").score(PROMPT, OPTIONS)
    lengths = [len(tokenizer(o, add_special_tokens=False)["input_ids"]) for o in OPTIONS]
    assert all(s < 0 for s in total)
    assert mean == pytest.approx([s / n for s, n in zip(total, lengths)], abs=1e-5)
    assert mean != pytest.approx(total)  # options of different lengths score differently


def test_registry_and_bad_inputs(tiny_lm, tmp_path):
    model, tokenizer = tiny_lm
    assert make_scorer("hf", model=model, tokenizer=tokenizer).score(PROMPT, []) == []
    with pytest.raises(ValueError, match="local Hugging Face model folder"):
        make_scorer("hf", model=tmp_path / "missing")
    with pytest.raises(ValueError, match="reduction"):
        HFScorer(model, tokenizer, reduction="max")
    with pytest.raises(ValueError, match="unknown language scorer"):
        make_scorer("gpt-9")
