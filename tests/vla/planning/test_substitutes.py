"""Substitutes read in a word's place against that word's own context (word grounding)."""

import pytest
import torch
import torch.nn.functional as F

from vla.language import SentenceEncoder
from vla.planning.substitutes import substitute_states

LEFT, RIGHT = ["please", "now"], ["the", "red", "block", "into", "the", "bowl", "."]


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


def hidden(encoder: SentenceEncoder, words: list[str]) -> tuple[torch.Tensor, ...]:
    batch = encoder.tokenizer([words], is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        return encoder.model(**batch, output_hidden_states=True).hidden_states


@pytest.mark.parametrize("layers", [2, 6])
def test_the_first_row_is_the_words_own_state_after_layers(encoder, layers):
    states = substitute_states(encoder, LEFT, "toss", RIGHT, ["put"], layers)
    expected = hidden(encoder, [*LEFT, "toss", *RIGHT])[layers][0, 1 + len(LEFT)]  # after CLS
    assert torch.allclose(states[0], F.normalize(expected, dim=0), atol=1e-5)


def test_after_one_layer_a_substitute_reads_as_in_the_rewritten_sentence(encoder):
    # the context's input to the first layer is the same whichever word stands in the place;
    # from the second layer on, the rewritten sentence's context has read the substitute
    assert len(encoder.tokenizer.tokenize("toss")) == len(encoder.tokenizer.tokenize("put")) == 1
    place = 1 + len(LEFT)
    for layers, same in ((1, True), (2, False)):
        states = substitute_states(encoder, LEFT, "toss", RIGHT, ["place", "put"], layers)
        rewritten = hidden(encoder, [*LEFT, "put", *RIGHT])[layers][0, place]
        assert torch.allclose(states[2], F.normalize(rewritten, dim=0), atol=1e-5) == same


def test_each_substitute_reads_only_the_context_and_its_own_pieces(encoder):
    pieces = encoder.tokenizer.tokenize("unstack")
    assert len(pieces) > 1  # a word of several pieces: they see each other, no one else
    alone = substitute_states(encoder, LEFT, "toss", RIGHT, ["unstack"], 6)
    batch = substitute_states(encoder, LEFT, "toss", RIGHT, ["put", "unstack", "x"], 6)
    assert torch.allclose(batch[2], alone[1], atol=1e-5)
    same = substitute_states(encoder, LEFT, "toss", RIGHT, ["toss", "put"], 6)
    assert torch.dot(same[0], same[1]) > 1 - 1e-5  # the word in its own place: itself
    assert torch.dot(same[0], same[2]) < 0.99
    elsewhere = substitute_states(encoder, ["bowl", "is"], "toss", ["."], ["put"], 6)
    assert not torch.allclose(elsewhere[1], same[2], atol=1e-3)


def test_no_substitutes_is_an_error(encoder):
    with pytest.raises(ValueError, match="at least one substitute"):
        substitute_states(encoder, LEFT, "toss", RIGHT, [], 6)
