"""Closed-loop evaluation of policies (and planners) on task suites: ``vla-eval``."""

from vla.evaluation.episode import EpisodeResult, run_episode
from vla.evaluation.runner import evaluate
from vla.evaluation.stats import aggregate, wilson_interval

__all__ = ["EpisodeResult", "aggregate", "evaluate", "run_episode", "wilson_interval"]
