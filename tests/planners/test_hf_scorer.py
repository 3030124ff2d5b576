"""The Hugging Face scorer: the options packed as a prefix tree score as one pass each would;
sum and mean differ as documented."""

import pytest
import torch
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
)

from planners import SayCanPlanner, SceneDescription, make_scorer, option_text
from planners.hf_scorer import HFScorer, PrefixTree
from planners.scorer import PromptTooLong


@pytest.fixture(scope="module")
def tiny_lm(word_tokenizer):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tokenizer = word_tokenizer
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=2, n_head=2)
    return GPT2LMHeadModel(config).eval(), tokenizer


OPTIONS = [
    " pick up the red block \n",
    " done \n",
    " place the red block in the blue bowl \n",
    " pick up the blue block \n",
    " place the red block on the blue block \n",
]
PROMPT = "instruction : pick up the red block \n objects : red block blue bowl \n 1 ."


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("batch_size", [1, 2, 8])
def test_packed_options_match_one_pass_each(tiny_lm, reduction, batch_size):
    model, tokenizer = tiny_lm
    scorer = HFScorer(model, tokenizer, reduction=reduction, batch_size=batch_size)
    packed = scorer.score(PROMPT, OPTIONS)
    naive = scorer.score_one_by_one(PROMPT, OPTIONS)
    assert packed == pytest.approx(naive, abs=1e-4)
    assert len(set(packed)) == len(OPTIONS)  # not one option's score repeated


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_rotary_positions_and_either_attention_are_honoured(attention, word_tokenizer):
    torch.manual_seed(1)
    tokenizer = word_tokenizer
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=64, attn_implementation=attention,
    )  # fmt: skip
    scorer = HFScorer(LlamaForCausalLM(config).eval(), tokenizer)
    assert scorer.score(PROMPT, OPTIONS) == pytest.approx(
        scorer.score_one_by_one(PROMPT, OPTIONS), abs=1e-4
    )


def test_prefix_tree_computes_each_shared_prefix_once():
    prompt, options = [7, 8, 9], [[1, 2, 3], [1, 2, 4], [1, 5], [6], [5, 1, 1]]
    tree = PrefixTree(prompt, options)
    assert tree.tokens == [7, 8, 9, 1, 2, 5, 1]  # (1,) and (1, 2) once; (5,) and (5, 1)
    assert tree.positions == [0, 1, 2, 3, 4, 3, 4]
    assert tree.rows == [[2, 3, 4], [2, 3, 4], [2, 3], [2], [2, 5, 6]]
    sees = (tree.mask(torch.float32)[0, 0] == 0).tolist()
    assert sees[6] == [True, True, True, False, False, True, True]  # not the other branch
    assert sees[4] == [True, True, True, True, True, False, False]
    assert sees[1] == [True, True, False, False, False, False, False]  # the prompt is causal


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
    (tmp_path / "config.json").write_text('{"policy": "rt1"}')  # a folder of another kind
    with pytest.raises(ValueError, match="is not a causal language model folder"):
        make_scorer("hf", model=tmp_path)
    with pytest.raises(ValueError, match="reduction"):
        HFScorer(model, tokenizer, reduction="max")
    with pytest.raises(ValueError, match="unknown language scorer"):
        make_scorer("gpt-9")


def test_options_are_tokenized_once_and_an_empty_one_is_refused(tiny_lm):
    model, tokenizer = tiny_lm
    calls = []

    def counting(texts, **kwargs):
        calls.append(list(texts) if isinstance(texts, list) else [texts])
        return tokenizer(texts, **kwargs)

    scorer = HFScorer(model, tokenizer)
    first = scorer.score(PROMPT, OPTIONS)
    scorer.tokenizer = counting
    assert scorer.score(PROMPT, OPTIONS) == pytest.approx(first, abs=1e-6)
    assert calls == [[PROMPT]]  # the options' tokens were kept from the first call
    with pytest.raises(ValueError, match="has no tokens"):
        scorer.score(PROMPT, [" done \n", ""])


def test_a_prompt_beyond_the_context_gets_a_clear_error(tiny_lm):
    """The last position the model has still scores; one more is refused in words."""
    model, tokenizer = tiny_lm
    scorer = HFScorer(model, tokenizer)
    option = OPTIONS[2]
    room = model.config.n_positions + 1 - len(tokenizer(option)["input_ids"])
    fits = " ".join(["red"] * room)
    assert len(scorer.score(fits, [option])) == 1
    with pytest.raises(PromptTooLong, match="context of 64"):
        scorer.score(fits + " red", [option])


def test_a_history_that_outgrows_the_context_ends_the_plan_unfinished(tiny_lm, caplog):
    """Skills run until the prompt no longer fits; the plan then stops, unfinished, with the
    reason recorded and logged. A first prompt that does not fit is bad input and raises."""
    model, tokenizer = tiny_lm
    scorer = HFScorer(model, tokenizer)

    class NeverDone:  # the untrained LM's scores, with "done" ruled out so the history grows
        def score(self, prompt, options):
            scores = scorer.score(prompt, options)
            return [s - 1e3 * (o == option_text("done")) for s, o in zip(scores, options)]

    scene = SceneDescription(("red block", "blue bowl"))
    planner = SayCanPlanner(NeverDone(), max_skills=50)
    ran = []
    result = planner.plan("pick up the red block", scene, lambda skill: ran.append(skill) or True)
    assert 0 < len(ran) < 50 and not result.finished
    assert result.stopped.startswith(f"stopped after {len(ran)} skills")
    assert "context of 64" in result.stopped and "context of 64" in caplog.text
    with pytest.raises(PromptTooLong):
        planner.plan("pick up the red block " * 20, scene, lambda skill: True)
