"""A Hugging Face causal LM as the SayCan "Say": log p(option | prompt), all options at once.

The prompt and the options run through the model in one forward pass, the options packed as a
prefix tree after the prompt: a token that opens several options ("put the red block" ...)
is computed once, and an attention mask lets each token see the prompt and its own option's
earlier tokens only, at the positions it would have after the prompt alone. So each option's
log-probability is the one a separate pass over ``prompt + option`` gives (within float
rounding), while the options of a SayCan step, which share most of their words, cost a
fraction of their tokens (0.4 of them on the ``language`` suite). ``reduction`` chooses the
score:

* ``"sum"``: the log-probability of the option's tokens, ``sum_j log p(t_j | prompt, t_<j)``,
  i.e. the log of the probability that the LM writes exactly this option. Longer options
  pay for every token, so the score prefers short skills when the LM is unsure.
* ``"mean"``: the same sum divided by the option's token count (length-normalised), which
  removes that bias; it is no longer a log-probability of the option.

Any local model folder loadable by ``AutoModelForCausalLM``/``AutoTokenizer`` works whose
attention takes a 4D additive mask and ``position_ids`` (every decoder in ``transformers``
with eager or SDPA attention); nothing downloads (``local_files_only``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from planners.scorer import PromptTooLong, register_scorer

REDUCTIONS = ("sum", "mean")
_OPTIONS_KEPT = 4096  # tokenized options kept (far more skills than any scene has)


class PrefixTree:
    """A prompt followed by its options as one sequence, each distinct option prefix once.

    ``tokens``/``positions``: the sequence and each token's position (an option's k-th token
    sits at ``len(prompt) + k``, as after the prompt alone); ``parents``: the token each one
    follows; ``rows[i]``: the sequence indices whose next-token logits predict option ``i``'s
    tokens (the prompt's last token, then its own prefixes). An option's last token predicts
    nothing and is not in the sequence.
    """

    def __init__(self, prompt: list[int], options: list[list[int]]) -> None:
        n = self.prompt_len = len(prompt)
        self.tokens, self.positions = list(prompt), list(range(n))
        self.parents = list(range(-1, n - 1))
        node: dict[tuple[int, ...], int] = {}
        self.rows: list[list[int]] = []
        for option in options:
            rows = [n - 1]
            for k in range(1, len(option)):
                prefix = tuple(option[:k])
                if prefix not in node:
                    node[prefix] = len(self.tokens)
                    self.tokens.append(option[k - 1])
                    self.positions.append(n + k - 1)
                    self.parents.append(rows[-1])
                rows.append(node[prefix])
            self.rows.append(rows)

    def mask(self, dtype: torch.dtype) -> torch.Tensor:
        """(1, 1, L, L) additive mask: 0 where a token sees another (itself and the tokens it
        follows), the dtype's lowest value elsewhere."""
        size, prompt = len(self.tokens), self.prompt_len
        sees = torch.zeros(size, size, dtype=torch.bool)
        sees[:prompt, :prompt] = torch.ones(prompt, prompt, dtype=torch.bool).tril()
        for i in range(prompt, size):
            sees[i] = sees[self.parents[i]]
            sees[i, i] = True
        blocked = torch.zeros(size, size, dtype=dtype).masked_fill_(~sees, torch.finfo(dtype).min)
        return blocked[None, None]


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
        self._options: dict[str, list[int]] = {}

    def _prompt_ids(self, prompt: str) -> list[int]:
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if not ids:
            bos = self.tokenizer.bos_token_id
            if bos is None:
                raise ValueError("empty prompt and the tokenizer has no BOS token to start from")
            ids = [bos]
        return ids

    def _option_ids(self, options: Sequence[str]) -> list[list[int]]:
        """Each option's tokens; the skill texts repeat at every step, so they are kept."""
        new = [o for o in dict.fromkeys(options) if o not in self._options]
        if new:
            ids = self.tokenizer(new, add_special_tokens=False)["input_ids"]
            for option, tokens in zip(new, ids, strict=True):
                if not tokens:
                    raise ValueError(f"option {option!r} has no tokens; options must be non-empty")
            if len(self._options) + len(new) > _OPTIONS_KEPT:
                self._options.clear()
            self._options.update(zip(new, ids, strict=True))
        return [self._options[o] for o in options]

    def _reduce(self, token_logps: torch.Tensor) -> float:
        """One option's score from its tokens' log-probabilities."""
        total = token_logps.sum()
        return float(total / len(token_logps) if self.reduction == "mean" else total)

    @torch.no_grad()
    def score(self, prompt: str, options: Sequence[str]) -> list[float]:
        """Score of each option following ``prompt`` (log-prob sum, or per-token mean)."""
        if not options:
            return []
        prompt_ids, option_ids = self._prompt_ids(prompt), self._option_ids(options)
        self._check_context(len(prompt_ids) + max(map(len, option_ids)) - 1)
        scores: list[float] = []
        for start in range(0, len(options), self.batch_size):
            scores += self._score_chunk(prompt_ids, option_ids[start : start + self.batch_size])
        return scores

    def _check_context(self, length: int) -> None:
        """A clear error, instead of an index error deep in the model, when a prompt and its
        longest option (its last token is predicted, not read) need more positions than the
        LM has."""
        config = self.model.config
        limit = getattr(config, "n_positions", None) or getattr(
            config, "max_position_embeddings", None
        )
        if limit and length > limit:
            raise PromptTooLong(
                f"the prompt and an option take {length} tokens, more than the LM's context of "
                f"{limit}: plan fewer skills (max_skills) or use an LM with a longer context "
                "(vla-train-lm n_positions=...)"
            )

    def _score_chunk(self, prompt_ids: list[int], chunk: list[list[int]]) -> list[float]:
        tree = PrefixTree(prompt_ids, chunk)
        dtype = next(self.model.parameters()).dtype
        logits = self.model(
            input_ids=torch.tensor([tree.tokens], device=self.device),
            attention_mask=tree.mask(dtype).to(self.device),
            position_ids=torch.tensor([tree.positions], device=self.device),
        ).logits[0]
        logps = torch.log_softmax(logits.float(), dim=-1)
        pairs = zip(chunk, tree.rows, strict=True)
        return [self._reduce(logps[rows, tokens]) for tokens, rows in pairs]

    @torch.no_grad()
    def score_one_by_one(self, prompt: str, options: Sequence[str]) -> list[float]:
        """Reference: the same scores from one full forward pass per option (slow)."""
        prompt_ids = self._prompt_ids(prompt)
        scores = []
        for tokens in self._option_ids(options):
            full = torch.tensor([prompt_ids + tokens], device=self.device)
            logps = torch.log_softmax(self.model(input_ids=full).logits[0].float(), dim=-1)
            rows = range(len(prompt_ids) - 1, len(full[0]) - 1)
            scores.append(self._reduce(logps[list(rows), tokens]))
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
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    except ValueError as error:  # e.g. a policy's folder: config.json without a model_type
        reason = str(error).strip().split("\n")[0] or type(error).__name__
        raise ValueError(f"{str(path)!r} is not a causal language model folder: {reason}") from None
    return model, tokenizer
