"""The ``minilm`` language scorer: a Say checkpoint behind ``score(prompt, options)``.

It reads the prompt back (:func:`planners.prompt.read_prompt`): the instruction, the object
names, the facts at the start and the facts now (the start facts with each step's scene
feedback applied). It does not read the list of skills that ran: the scene now says what they
did. It therefore needs the planner's scene feedback (``observe_facts``; ``vla-eval`` and
``vla-run`` give it to a Say unless ``planner.feedback=false``): without it the scene stays as
it started.

Each option is scored against the others: the returned values are log-probabilities of a
softmax over the options (natural log), so they sum to one in probability, as the planner
assumes. Cost per step: MiniLM runs once per new text (an instruction once per episode, a
fact or skill once per process); the head then scores every option in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from planners.prompt import read_prompt
from planners.scorer import register_scorer
from vla.planning.say import BUNDLED_SAY
from vla.planning.say.checkpoint import load_head
from vla.planning.say.data import pad_states
from vla.planning.say.features import TokenStates


@register_scorer("minilm")
class MiniLMSay:
    """The Say of a checkpoint folder (default: the bundled ``vla/assets/say_minilm``)."""

    def __init__(self, model: str | Path | None = None) -> None:
        self.path = Path(model) if model is not None else BUNDLED_SAY
        self.head = load_head(self.path)
        self.text = TokenStates(self.head.cfg.encoder)

    @torch.no_grad()
    def score(self, prompt: str, options: Sequence[str]) -> list[float]:
        """Log-probability of each option among ``options`` as the next skill of ``prompt``."""
        if not options:
            return []
        view = read_prompt(prompt)
        skills = [option.strip() for option in options]
        phrases = list(dict.fromkeys([*view.objects, *view.facts, *view.now, *skills]))
        index = {p: i for i, p in enumerate(phrases)}

        def ids(texts: Sequence[str]) -> torch.Tensor:
            return torch.tensor([[index[t] for t in texts]], dtype=torch.long).reshape(1, -1)

        instruction, instruction_mask = pad_states(self.text([view.instruction]))
        phrase_states, phrase_mask = pad_states(self.text(phrases))
        logits = self.head(
            instruction, instruction_mask, phrase_states, phrase_mask,
            ids(view.objects), ids(view.facts), ids(view.now), ids(skills),
        )[0]  # fmt: skip
        return torch.log_softmax(logits, dim=0).tolist()
