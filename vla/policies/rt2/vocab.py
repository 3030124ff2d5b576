"""RT-2's action vocabulary: the 11 action tokens as tokens of a language model's vocabulary.

``ActionTokenizer`` (``vla.tokenizer``) maps an action to 11 small integers: dims 0-9 a bin in
[0, 256), dim 10 a mode in {0, 1, 2}. RT-2 writes those integers as text tokens of the
vision-language model. Here every bin and every mode gets its own **new** token, added to the
text tokenizer and to the embedding matrix (``add_action_tokens``): ``<act_0>`` ...
``<act_255>`` and ``<mode_arm>``, ``<mode_base>``, ``<mode_terminate>`` (259 ids).

Why new tokens rather than reused ids: RT-2 (PaLI-X) reuses number tokens and OpenVLA
overwrites the 256 least used Llama tokens, but which ids are safe to overwrite depends on the
backbone's tokenizer; new ids never collide with text, so the same code serves a from-scratch
backbone and any Hugging Face VLM, and co-training on text keeps every text token intact.
The mode gets tokens distinct from the bins so that "terminate" cannot be read as "bin 2".

``ActionLogitsProcessor`` constrains generation: at action position p (0-9) only the 256 bin
ids are allowed, at position 10 only the 3 mode ids, so every generated sequence decodes.
Parallel decoding applies the same table to all 11 positions at once (``constrain_all``).
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor, PreTrainedTokenizerBase

from vla.tokenizer import MODE_INDEX, N_ACTION_DIMS, N_MODES

MODE_TOKENS: tuple[str, ...] = ("<mode_arm>", "<mode_base>", "<mode_terminate>")
SLOT_TOKEN = "<act_slot>"  # input of the parallel-decoding slots (``vla.policies.rt2.sequences``)


def bin_token(index: int) -> str:
    """Text of the token for action bin ``index`` (e.g. ``<act_17>``)."""
    return f"<act_{index}>"


def action_token_strings(n_bins: int = 256) -> list[str]:
    """All action tokens in id order: the ``n_bins`` bin tokens, then the 3 mode tokens."""
    return [bin_token(i) for i in range(n_bins)] + list(MODE_TOKENS)


def add_action_tokens(tokenizer: PreTrainedTokenizerBase, n_bins: int = 256) -> int:
    """Add the action tokens to ``tokenizer`` (those it lacks); returns how many were added.

    The caller resizes the model's embeddings to ``len(tokenizer)`` afterwards.
    """
    return tokenizer.add_tokens(action_token_strings(n_bins), special_tokens=False)


class ActionVocab:
    """Maps ``ActionTokenizer`` tokens (..., 11) to language-model ids (..., 11) and back.

    Args:
        bin_ids: (n_bins,) vocabulary id of each bin token, in bin order.
        mode_ids: (3,) vocabulary id of each mode token (arm, base, terminate).
        vocab_size: size of the model's output layer (logits width).
    """

    def __init__(self, bin_ids: torch.Tensor, mode_ids: torch.Tensor, vocab_size: int) -> None:
        self.bin_ids = torch.as_tensor(bin_ids, dtype=torch.long)
        self.mode_ids = torch.as_tensor(mode_ids, dtype=torch.long)
        self.vocab_size = int(vocab_size)
        ids = torch.cat([self.bin_ids, self.mode_ids])
        if len(set(ids.tolist())) != len(ids) or ids.min() < 0 or ids.max() >= vocab_size:
            raise ValueError(f"action ids must be distinct and in [0, {vocab_size})")
        # allowed[p, v]: id v may be generated at action position p
        self.allowed = torch.zeros(N_ACTION_DIMS, self.vocab_size, dtype=torch.bool)
        self.allowed[:MODE_INDEX, self.bin_ids] = True
        self.allowed[MODE_INDEX, self.mode_ids] = True
        # id -> bin or mode index at its position; -1 marks ids that are invalid there
        self._inverse = torch.full((N_ACTION_DIMS, self.vocab_size), -1, dtype=torch.long)
        self._inverse[:MODE_INDEX, self.bin_ids] = torch.arange(len(self.bin_ids))
        self._inverse[MODE_INDEX, self.mode_ids] = torch.arange(N_MODES)

    @classmethod
    def from_tokenizer(
        cls, tokenizer: PreTrainedTokenizerBase, vocab_size: int, n_bins: int = 256
    ) -> ActionVocab:
        """Look the action tokens up in ``tokenizer`` (after ``add_action_tokens``)."""
        vocab = tokenizer.get_vocab()
        missing = [t for t in action_token_strings(n_bins) if t not in vocab]
        if missing:
            raise ValueError(f"tokenizer lacks {len(missing)} action tokens, e.g. {missing[0]}")
        bins = [vocab[bin_token(i)] for i in range(n_bins)]
        return cls(torch.tensor(bins), torch.tensor([vocab[t] for t in MODE_TOKENS]), vocab_size)

    @property
    def n_bins(self) -> int:
        return len(self.bin_ids)

    def to_ids(self, tokens: torch.Tensor) -> torch.Tensor:
        """(..., 11) action tokens (bins, then mode) -> (..., 11) vocabulary ids."""
        tokens = torch.as_tensor(tokens, dtype=torch.long)
        if tokens.shape[-1] != N_ACTION_DIMS:
            raise ValueError(f"action tokens must be (..., 11), got {tuple(tokens.shape)}")
        out = self.bin_ids[tokens.clamp(0, self.n_bins - 1)]
        out[..., MODE_INDEX] = self.mode_ids[tokens[..., MODE_INDEX].clamp(0, N_MODES - 1)]
        return out

    def from_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """(..., 11) vocabulary ids -> (..., 11) action tokens; ValueError on an invalid id."""
        ids = torch.as_tensor(ids, dtype=torch.long)
        if ids.shape[-1] != N_ACTION_DIMS:
            raise ValueError(f"action ids must be (..., 11), got {tuple(ids.shape)}")
        position = torch.arange(N_ACTION_DIMS).expand_as(ids)
        tokens = self._inverse[position, ids.clamp(0, self.vocab_size - 1)]
        bad = (tokens < 0) | (ids < 0) | (ids >= self.vocab_size)
        if bad.any():
            where = bad.nonzero()[0].tolist()
            raise ValueError(
                f"id {ids[tuple(where)].item()} is not a valid action token at {where}"
            )
        return tokens

    def invalid_count(self, ids: torch.Tensor) -> int:
        """How many ids in (..., 11) are not allowed at their position."""
        ids = torch.as_tensor(ids, dtype=torch.long)
        position = torch.arange(N_ACTION_DIMS).expand_as(ids)
        in_range = (ids >= 0) & (ids < self.vocab_size)
        ok = in_range & self.allowed[position, ids.clamp(0, self.vocab_size - 1)]
        return int((~ok).sum())


class ActionLogitsProcessor(LogitsProcessor):
    """Masks (to -inf) every id that is not a valid action token at the current position.

    The position is the number of tokens generated so far (``input_ids`` length minus
    ``prompt_length``); from position 11 on, everything but ``eos_id`` is masked (or nothing
    is allowed to change if ``eos_id`` is None, and generation must stop at 11 tokens).
    """

    def __init__(self, vocab: ActionVocab, prompt_length: int, eos_id: int | None = None) -> None:
        self.vocab = vocab
        self.prompt_length = int(prompt_length)
        self.eos_id = eos_id

    def allowed_at(self, position: int, width: int) -> torch.Tensor:
        """(width,) bool mask of the ids allowed at action ``position``."""
        allowed = torch.zeros(width, dtype=torch.bool)
        if position < N_ACTION_DIMS:
            n = min(width, self.vocab.vocab_size)
            allowed[:n] = self.vocab.allowed[position, :n]
        elif self.eos_id is not None:
            allowed[self.eos_id] = True
        return allowed

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        position = input_ids.shape[1] - self.prompt_length
        if position < 0:
            raise ValueError(f"input_ids shorter than the prompt ({self.prompt_length} tokens)")
        allowed = self.allowed_at(position, scores.shape[-1]).to(scores.device)
        return scores.masked_fill(~allowed, float("-inf"))

    def constrain_all(self, scores: torch.FloatTensor) -> torch.FloatTensor:
        """(B, 11, V) scores of all 11 action positions at once -> the invalid ids masked."""
        width = scores.shape[-1]
        allowed = torch.stack([self.allowed_at(p, width) for p in range(N_ACTION_DIMS)])
        return scores.masked_fill(~allowed.to(scores.device), float("-inf"))
