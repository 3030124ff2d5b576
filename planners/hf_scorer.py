"""A Hugging Face causal LM as the SayCan "Say": log p(option | prompt), batched over options.

The prompt runs through the model once into a ``DynamicCache``; a copy of it is then repeated
over each batch of options, so each option costs only its own tokens. ``reduction`` chooses
the score:

* ``"sum"``: the log-probability of the option's tokens, ``sum_j log p(t_j | prompt, t_<j)``,
  i.e. the log of the probability that the LM writes exactly this option. Longer options
  pay for every token, so the score prefers short skills when the LM is unsure.
* ``"mean"``: the same sum divided by the option's token count (length-normalised), which
  removes that bias; it is no longer a log-probability of the option.

Any local model folder loadable by ``AutoModelForCausalLM``/``AutoTokenizer`` works; nothing
downloads (``local_files_only``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from planners.scorer import register_scorer

REDUCTIONS = ("sum", "mean")


@register_scorer("hf")
class HFScorer:
    """Scores options with a causal LM.

    model: a local model folder, or a loaded ``PreTrainedModel`` (then pass ``tokenizer``).
    reduction: ``"sum"`` or ``"mean"`` (see the module docstring).
    batch_size: options per forward pass.
    """

    def __init__(
        self,
        model: str | Path | Any,
        tokenizer: Any = None,
        reduction: str = "sum",
        batch_size: int = 64,
        device: str = "cpu",
    ) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        if isinstance(model, str | Path):
            model, tokenizer = load_local_lm(model)
        if tokenizer is None:
            raise ValueError("pass the tokenizer together with a loaded model")
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.reduction = reduction
        self.batch_size = batch_size
        self.device = device

    def _prompt_ids(self, prompt: str) -> list[int]:
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if not ids:
            bos = self.tokenizer.bos_token_id
            if bos is None:
                raise ValueError("empty prompt and the tokenizer has no BOS token to start from")
            ids = [bos]
        return ids

    def _option_ids(self, options: Sequence[str]) -> list[list[int]]:
        ids = [self.tokenizer(o, add_special_tokens=False)["input_ids"] for o in options]
        for option, tokens in zip(options, ids):
            if not tokens:
                raise ValueError(f"option {option!r} has no tokens; options must be non-empty")
        return ids

    def _reduce(self, token_logps: torch.Tensor, lengths: torch.Tensor) -> list[float]:
        totals = token_logps.sum(dim=1)
        if self.reduction == "mean":
            totals = totals / lengths
        return totals.tolist()

    @torch.no_grad()
    def score(self, prompt: str, options: Sequence[str]) -> list[float]:
        """Score of each option following ``prompt`` (log-prob sum, or per-token mean)."""
        if not options:
            return []
        from transformers import DynamicCache

        prompt_ids = torch.tensor([self._prompt_ids(prompt)], device=self.device)
        prompt_cache = DynamicCache(config=self.model.config)
        out = self.model(input_ids=prompt_ids, cache=prompt_cache, use_cache=True)
        first_logps = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
        option_ids = self._option_ids(options)
        scores: list[float] = []
        for start in range(0, len(options), self.batch_size):
            chunk = option_ids[start : start + self.batch_size]
            cache = copy.deepcopy(prompt_cache)
            scores += self._score_chunk(chunk, prompt_ids.shape[1], cache, first_logps)
        return scores

    def _score_chunk(
        self, chunk: list[list[int]], prompt_len: int, cache: Any, first_logps: torch.Tensor
    ) -> list[float]:
        batch, width = len(chunk), max(len(ids) for ids in chunk)
        ids = torch.zeros(batch, width, dtype=torch.long, device=self.device)
        mask = torch.zeros(batch, width, dtype=torch.long, device=self.device)
        for row, tokens in enumerate(chunk):
            ids[row, : len(tokens)] = torch.tensor(tokens)
            mask[row, : len(tokens)] = 1
        token_logps = torch.zeros(batch, width, device=self.device)
        token_logps[:, 0] = first_logps[ids[:, 0]]
        if width > 1:
            cache.batch_repeat_interleave(batch)
            attention = torch.cat([mask.new_ones(batch, prompt_len), mask], dim=1)
            positions = torch.arange(prompt_len, prompt_len + width, device=self.device)
            logits = self.model(
                input_ids=ids,
                attention_mask=attention,
                position_ids=positions.expand(batch, -1),
                cache=cache,
                use_cache=True,
            ).logits
            logps = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            token_logps[:, 1:] = logps.gather(2, ids[:, 1:, None])[..., 0]
        return self._reduce(token_logps * mask, mask.sum(dim=1))

    @torch.no_grad()
    def score_without_cache(self, prompt: str, options: Sequence[str]) -> list[float]:
        """Reference: the same scores from one full forward pass per option (slow)."""
        prompt_ids = self._prompt_ids(prompt)
        scores = []
        for tokens in self._option_ids(options):
            full = torch.tensor([prompt_ids + tokens], device=self.device)
            logps = torch.log_softmax(self.model(input_ids=full).logits[0].float(), dim=-1)
            start = len(prompt_ids)
            picked = [logps[start - 1 + j, t] for j, t in enumerate(tokens)]
            token_logps = torch.stack(picked)[None]
            scores += self._reduce(token_logps, torch.tensor([len(tokens)]))
        return scores


def load_local_lm(path: str | Path) -> tuple[Any, Any]:
    """(model, tokenizer) from a local Hugging Face folder; nothing is downloaded."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise ValueError(
            f"no language model at {str(path)!r}: planner.lm must name a local Hugging Face "
            "model folder (with config.json); nothing is downloaded"
        )
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    return model, tokenizer
