"""Skill registry: text template -> scripted expert + success check.

Each skill class handles one template of :data:`sim.skill_text.SKILL_TEMPLATES`;
adding a skill is one new file plus a template.
"""

from sim.skills import done, go_to, pick, place  # noqa: F401  (registers the skills)
from sim.skills.base import SKILLS, Skill, make_skill, register_skill

__all__ = ["SKILLS", "Skill", "make_skill", "register_skill"]
