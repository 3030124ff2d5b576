"""The policy interface every controller implements, and the registry that builds them by name.

A policy maps one observation (docs/architecture.md) to one 11-dim RT-1 action; it may keep
per-episode memory (e.g. frame history), cleared by ``reset``. Learned policies save to and
load from a checkpoint folder (``vla.checkpoint``) whose config.json names the registered
class under ``"policy"``, so ``load_policy(folder)`` needs no other hint.
"""

from __future__ import annotations

import abc
import os
import pathlib
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import numpy as np

from sim.registry import Registry
from vla.checkpoint import BUNDLED_DIR, CONFIG_FILE, read_config


class Policy(abc.ABC):
    """Observation -> action, one control step (20 Hz) at a time."""

    policy_name: ClassVar[str] = ""  # set by ``register_policy``

    @abc.abstractmethod
    def reset(self) -> None:
        """Forget per-episode memory; call at every episode (or skill) start."""

    @abc.abstractmethod
    def select_action(self, observation: dict[str, Any]) -> np.ndarray:
        """Next action.

        Args:
            observation: ``{"images": {"front", "wrist": (H, W, 3) uint8}, "state": (10,)
                float32, "instruction": str}``.

        Returns:
            (11,) float32 action; dim 10 is the mode 0 (arm), 1 (base) or 2 (terminate).
        """

    @abc.abstractmethod
    def save_pretrained(self, directory: str | os.PathLike) -> pathlib.Path:
        """Write a checkpoint folder that ``from_pretrained`` reads back; returns its path."""

    @classmethod
    @abc.abstractmethod
    def from_pretrained(cls, directory: str | os.PathLike, **kwargs: Any) -> Policy:
        """Load a policy saved by ``save_pretrained``."""


POLICIES: Registry[type[Policy]] = Registry("policy")
P = TypeVar("P", bound=type[Policy])


def register_policy(name: str) -> Callable[[P], P]:
    """Class decorator: make ``load_policy(name)`` build this class."""

    def decorator(cls: P) -> P:
        POLICIES.add(name, cls)
        cls.policy_name = name
        return cls

    return decorator


def bundled_checkpoint(name: str) -> pathlib.Path | None:
    """The checkpoint folder shipped in the package for policy ``name``, if there is one."""
    folder = BUNDLED_DIR / name
    return folder if (folder / CONFIG_FILE).is_file() else None


def load_policy(
    name_or_checkpoint_dir: str | os.PathLike, pretrained: bool = True, **kwargs: Any
) -> Policy:
    """Load a registered policy by name, a policy from a checkpoint folder, or a remote one.

    By name, the package's bundled checkpoint for it (``vla/assets/<name>``) is loaded when
    one ships and ``pretrained`` is true; otherwise the class is built from ``kwargs`` (a
    class may refuse to build an untrained model silently: ``rt2`` without a backbone).
    ``kwargs`` go to the constructor (fresh) or to ``from_pretrained`` (checkpoints). A
    ``ws://`` / ``wss://`` URL gives a :class:`vla.serve.client.RemotePolicy` for it.

    Raises:
        ValueError: neither a registered name nor a folder with config.json, or the
            folder names an unregistered policy class.
    """
    key = str(name_or_checkpoint_dir)
    if key.startswith(("ws://", "wss://")):  # a vla-serve server (kwargs: timeout_s, api_key)
        from vla.serve.client import RemotePolicy

        return RemotePolicy(key, **kwargs)
    if key in POLICIES:
        bundled = bundled_checkpoint(key) if pretrained else None
        if bundled is None:
            return POLICIES[key](**kwargs)
        return POLICIES[key].from_pretrained(bundled, **kwargs)
    folder = pathlib.Path(key).expanduser()
    registered = ", ".join(POLICIES) or "none"
    if (folder / CONFIG_FILE).is_file():
        name = read_config(folder).get("policy")
        if name not in POLICIES:
            raise ValueError(
                f"{folder / CONFIG_FILE} names policy {name!r}; registered: {registered}"
            )
        return POLICIES[name].from_pretrained(folder, **kwargs)
    raise ValueError(
        f"unknown policy {key!r}: not a registered name ({registered}) "
        f"nor a checkpoint folder with {CONFIG_FILE}"
    )
