"""The "Say" interface: a language scorer and the registry of scorers.

A scorer answers ``score(prompt, options) -> list[float]``: for each option, the
log-probability (natural log) of the option's text as a continuation of ``prompt``, batched
over the options. Register a new scorer with :func:`register_scorer` and build one by name
with :func:`make_scorer` (``planner.lm=/path/to/model`` picks the Hugging Face scorer's model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from sim.registry import Registry


@runtime_checkable
class LanguageScorer(Protocol):
    """Scores continuations of a prompt."""

    def score(self, prompt: str, options: Sequence[str]) -> list[float]:
        """Log-probability of each option's text following ``prompt`` (one float per option)."""
        ...


class PromptTooLong(ValueError):
    """A prompt and an option need more positions than the scorer's LM has; the planner ends
    the episode unfinished instead of crashing (a long plan's history outgrew the context)."""


ScorerFactory = Callable[..., LanguageScorer]
SCORERS: Registry[ScorerFactory] = Registry("language scorer")


def register_scorer(name: str) -> Callable[[ScorerFactory], ScorerFactory]:
    """Decorator: make ``factory(**kwargs)`` available as ``make_scorer(name, **kwargs)``."""
    return SCORERS.register(name)


def make_scorer(name: str, **kwargs: Any) -> LanguageScorer:
    """Build the scorer registered as ``name`` (``"hf"``: :class:`planners.hf_scorer.HFScorer`)."""
    if name == "hf" and name not in SCORERS:
        import planners.hf_scorer  # noqa: F401  (registers "hf"; imports torch lazily)
    return SCORERS.get(name)(**kwargs)
