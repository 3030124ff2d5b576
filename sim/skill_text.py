"""The text of skills: what the planner chooses among and what the VLA is conditioned on.

A skill text is one of these templates with object, place or area names filled in::

    pick up the {obj}                 obj: a block
    place the {obj} in the {target}   target: a bowl
    place the {obj} on the {target}   target: a block (stacking) or an area (mobile scene)
    place the {obj} at the {target}   target: a named tabletop place
    go to the {target}                target: an area (mobile scene)
    done
"""

from __future__ import annotations

import re
from typing import NamedTuple

SKILL_TEMPLATES: dict[str, str] = {
    "pick": "pick up the {obj}",
    "place_in": "place the {obj} in the {target}",
    "place_on": "place the {obj} on the {target}",
    "place_at": "place the {obj} at the {target}",
    "go_to": "go to the {target}",
    "done": "done",
}

_PATTERNS = {
    name: re.compile(
        "^"
        + re.escape(template)
        .replace(re.escape("{obj}"), "(?P<obj>.+?)")
        .replace(re.escape("{target}"), "(?P<target>.+?)")
        + "$"
    )
    for name, template in SKILL_TEMPLATES.items()
}


class SkillCall(NamedTuple):
    """A parsed skill text: the template name and its arguments (None when unused)."""

    name: str
    obj: str | None = None
    target: str | None = None

    @property
    def text(self) -> str:
        return SKILL_TEMPLATES[self.name].format(obj=self.obj, target=self.target)


def skill_text(name: str, obj: str | None = None, target: str | None = None) -> str:
    """Fill in template ``name``; e.g. ``skill_text("pick", "red block")``."""
    if name not in SKILL_TEMPLATES:
        raise ValueError(f"unknown skill {name!r}; known skills: {sorted(SKILL_TEMPLATES)}")
    return SkillCall(name, obj, target).text


def parse_skill(text: str) -> SkillCall:
    """Parse a skill text back into a :class:`SkillCall` (ValueError if no template fits)."""
    normalized = " ".join(text.strip().lower().rstrip(".").split())
    for name, pattern in _PATTERNS.items():
        match = pattern.match(normalized)
        if match:
            groups = match.groupdict()
            return SkillCall(name, groups.get("obj"), groups.get("target"))
    templates = "; ".join(SKILL_TEMPLATES.values())
    raise ValueError(f"skill text {text!r} matches no skill template ({templates})")
