"""An offline text tokenizer for the from-scratch RT-2 backbone.

A pretrained VLM brings its own tokenizer; the small from-scratch configuration needs one that
exists without a download. It is word-level (lower-cased, split on whitespace and
punctuation) over every word our instructions can contain: the skill templates, the task
suites, the paraphrase tables, the RT-2 prompt and the co-training questions. A word outside
that list becomes ``<unk>``. The image placeholder is a special token; the 259 action tokens
are added afterwards by ``vla.policies.rt2.vocab.add_action_tokens``, as for any backbone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml
from tokenizers import Tokenizer, normalizers, pre_tokenizers
from tokenizers.models import WordLevel
from transformers import PreTrainedTokenizerFast

from sim.skill_text import SKILL_TEMPLATES
from sim.tasks import paraphrase
from sim.tasks.generate import SUITES_DIR
from vla.policies.rt2.scene_vqa import QUESTION_WORDS

PAD, UNK, BOS, EOS, IMAGE = "<pad>", "<unk>", "<bos>", "<eos>", "<image>"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS, IMAGE)
PROMPT = "What action should the robot take to {instruction}?"
WORD_PATTERN = re.compile(r"\w+|[^\w\s]")


def _strings(value: object) -> Iterable[str]:
    """Every string inside nested dicts / tuples / lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def corpus_texts(suites_dir: Path = SUITES_DIR) -> list[str]:
    """The texts the vocabulary is built from (instructions, templates, prompt, questions)."""
    texts = [PROMPT, QUESTION_WORDS, *SKILL_TEMPLATES.values()]
    texts += [s for name in dir(paraphrase) for s in _strings(getattr(paraphrase, name))]
    for suite in sorted(suites_dir.glob("*.yaml")):
        texts += [str(task.get("instruction", "")) for task in yaml.safe_load(suite.read_text())]
    return texts


def build_word_tokenizer(texts: Iterable[str] | None = None) -> PreTrainedTokenizerFast:
    """A word-level ``PreTrainedTokenizerFast`` over ``texts`` (default ``corpus_texts()``)."""
    words = sorted({w for t in (texts or corpus_texts()) for w in WORD_PATTERN.findall(t.lower())})
    words = [w for w in words if w not in SPECIAL_TOKENS]
    vocab = {token: i for i, token in enumerate([*SPECIAL_TOKENS, *words])}
    backend = Tokenizer(WordLevel(vocab, unk_token=UNK))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer_from_backend(backend)


def tokenizer_from_backend(backend: Tokenizer) -> PreTrainedTokenizerFast:
    """Wrap a ``tokenizers.Tokenizer`` built by ``build_word_tokenizer`` (e.g. reloaded from its
    JSON in a checkpoint) with its special tokens."""
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token=PAD, unk_token=UNK, bos_token=BOS, eos_token=EOS
    )
    tokenizer.add_special_tokens({"additional_special_tokens": [IMAGE]})
    return tokenizer
