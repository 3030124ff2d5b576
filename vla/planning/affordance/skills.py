"""Skill types of skill texts (``pick``, ``place_in``, ``go_to``, ...), for per-type metrics."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sim.skill_text import parse_skill


def skill_type(skill: str) -> str:
    """The skill template's name (``"pick up the red block"`` -> ``"pick"``)."""
    return parse_skill(skill).name


def skill_types(skills: Iterable[str]) -> np.ndarray:
    """:func:`skill_type` of each text, as a str array."""
    return np.asarray([skill_type(str(s)) for s in skills], dtype=np.str_)
