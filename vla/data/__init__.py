"""Recorded demonstrations on disk (:mod:`vla.data.episode_store`) and their PyTorch view
(:mod:`vla.data.torch_dataset`, imported separately so that recording does not load torch)."""

from vla.data.episode_schema import EpisodeBuffer
from vla.data.episode_store import EpisodeStore
from vla.data.writer_lock import DatasetLockedError

__all__ = ["DatasetLockedError", "EpisodeBuffer", "EpisodeStore"]
