"""Candidate skills: every skill text the scene allows, built from its object/place/area names.

The templates are a copy of ``sim.skill_text.SKILL_TEMPLATES`` (planners import nothing from
sim; a test checks the copy matches). Objects are named ``<colour> <type>``; the type (last
word) says what a name can do: ``graspable`` types are picked and placed, ``containers`` take
``place ... in``, graspable objects also take ``place ... on`` (stacking).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SKILL_TEMPLATES: dict[str, str] = {
    "pick": "pick up the {obj}",
    "place_in": "place the {obj} in the {target}",
    "place_on": "place the {obj} on the {target}",
    "place_at": "place the {obj} at the {target}",
    "go_to": "go to the {target}",
    "done": "done",
}


@dataclass(frozen=True)
class SceneDescription:
    """What the planner knows of the scene: names, and facts of the starting arrangement.

    objects: e.g. ``("red block", "blue bowl")``; places: named tabletop places
    (``"top left corner"``); areas: mobile-scene areas (``"table"``, ``"counter"``);
    facts: e.g. ``("red block in blue bowl", "robot at counter")`` (see planners.prompt).
    """

    objects: tuple[str, ...]
    places: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()


def object_type(name: str) -> str:
    """The type of an object name: its last word (``"red block"`` -> ``"block"``)."""
    return name.split()[-1]


def candidate_skills(
    scene: SceneDescription,
    templates: Mapping[str, str] = SKILL_TEMPLATES,
    graspable: Sequence[str] = ("block",),
    containers: Sequence[str] = ("bowl",),
) -> list[str]:
    """All skill texts for ``scene``, in a fixed order, ending with ``done``.

    pick each graspable object; place it in each container, on each other graspable object,
    on each area and at each place; go to each area; done.
    """
    movers = [o for o in scene.objects if object_type(o) in graspable]
    bowls = [o for o in scene.objects if object_type(o) in containers]
    skills = [templates["pick"].format(obj=o) for o in movers]
    for obj in movers:
        skills += [templates["place_in"].format(obj=obj, target=t) for t in bowls]
        others = [t for t in movers if t != obj] + list(scene.areas)
        skills += [templates["place_on"].format(obj=obj, target=t) for t in others]
        skills += [templates["place_at"].format(obj=obj, target=t) for t in scene.places]
    skills += [templates["go_to"].format(target=a) for a in scene.areas]
    skills.append(templates["done"])
    return skills
