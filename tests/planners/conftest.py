"""A word-level tokenizer for the tiny causal LMs the scorer tests build."""

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

WORDS = "instruction objects pick up place the red blue block bowl in on done 1 2 . : \n".split(" ")


@pytest.fixture(scope="session")
def word_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {"<unk>": 0, **{w: i + 1 for i, w in enumerate(WORDS)}, " ": len(WORDS) + 1}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(" ", behavior="removed")
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>")
