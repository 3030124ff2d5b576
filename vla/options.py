"""Typed app options: build one from a mapping, and the range checks their dataclasses share.

Every command-line app takes one dataclass of options (``vla.training.config.TrainConfig``,
``vla.evaluation.config.EvalConfig``, ...), registered with Hydra as a structured config:
Hydra checks each option's name and type on the command line, and the dataclass's
``__post_init__`` checks its range. The defaults live in the dataclasses only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

T = TypeVar("T")


def build(schema: type[T], values: Mapping[str, Any] | None = None) -> T:
    """``schema`` (a config dataclass) from ``values``, checked as the command line is.

    Raises:
        ValueError: one line naming an unknown option, a value of the wrong type or out of
            range.
    """
    try:
        node = OmegaConf.merge(OmegaConf.structured(schema), dict(values or {}))
    except OmegaConfBaseException as error:
        raise ValueError(config_error_line(error)) from None
    return to_object(node)


def to_object(node: DictConfig) -> Any:
    """The dataclass instance of a structured config (its ``__post_init__`` checks run).

    Raises:
        ValueError: an option no dataclass field declares (added with ``+key=``), a
            missing value (``???``) or a broken interpolation, in one line.
    """
    unknown = unknown_options(node)
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r}")
    try:
        return OmegaConf.to_object(node)
    except OmegaConfBaseException as error:
        raise ValueError(config_error_line(error)) from None


def unknown_options(node: DictConfig, prefix: str = "") -> list[str]:
    """Keys of ``node`` (recursively) that its dataclass type does not declare."""
    kind = OmegaConf.get_type(node)
    known = {f.name for f in dataclasses.fields(kind)} if dataclasses.is_dataclass(kind) else None
    found = []
    for key in node.keys():
        name = f"{prefix}{key}"
        if known is not None and key not in known:
            found.append(name)
            continue
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not (child._is_missing() or child._is_none()):
            found += unknown_options(child, name + ".")
    return found


def config_error_line(error: OmegaConfBaseException) -> str:
    """One line for an OmegaConf error: the option (``full_key``) and the first message line."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    key = getattr(error, "full_key", None)
    return f"{key}: {message}" if key else message


# --- range checks for __post_init__ -------------------------------------------------------
# ``prefix`` names the option group in messages ("robot." for robot.image_size). NaN fails
# every check: each is written so that a comparison with NaN (always False) is an error.


def at_least(config: Any, minimum: float, *names: str, prefix: str = "") -> None:
    """Each option ``names`` of ``config`` (None allowed) must be >= ``minimum``."""
    for name in names:
        value = getattr(config, name)
        if value is not None and not value >= minimum:
            raise ValueError(f"{prefix}{name}={value}: must be >= {minimum}")


def positive(config: Any, *names: str, prefix: str = "") -> None:
    """Each option ``names`` of ``config`` (None allowed) must be > 0."""
    for name in names:
        value = getattr(config, name)
        if value is not None and not value > 0:
            raise ValueError(f"{prefix}{name}={value}: must be > 0")


def in_range(
    config: Any, name: str, low: float, high: float, high_open: bool = True, prefix: str = ""
) -> None:
    """Option ``name`` must lie in [low, high) (``high_open``) or [low, high]."""
    value = getattr(config, name)
    above = value >= high if high_open else value > high
    if not value >= low or above:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{prefix}{name}={value}: must be in [{low}, {high}{bracket}")


def one_of(config: Any, name: str, choices: tuple, prefix: str = "") -> None:
    """Option ``name`` must be one of ``choices``."""
    value = getattr(config, name)
    if value not in choices:
        raise ValueError(f"{prefix}{name}={value!r}: choose one of {list(choices)}")
