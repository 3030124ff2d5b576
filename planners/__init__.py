"""SayCan planning: language scorers ("Say"), affordance functions ("Can") and the loop.

This package imports nothing from ``sim`` or ``vla`` (one exception: the generic registry
helper :mod:`sim.registry`, which holds no simulator state): it sees the world through a
scene description (object, place and area names), a language scorer, an affordance function
and a skill executor, so it runs the same against the simulator, a real robot or a test fake.
"""

from planners.affordance import (
    Affordance,
    ConstantAffordance,
    make_affordance,
    register_affordance,
)
from planners.candidates import SKILL_TEMPLATES, SceneDescription, candidate_skills
from planners.prompt import build_prompt, option_text
from planners.saycan import CandidateScore, PlanResult, SayCanPlanner, StepRecord
from planners.scorer import LanguageScorer, make_scorer, register_scorer

__all__ = [
    "SKILL_TEMPLATES",
    "Affordance",
    "CandidateScore",
    "ConstantAffordance",
    "LanguageScorer",
    "PlanResult",
    "SayCanPlanner",
    "SceneDescription",
    "StepRecord",
    "build_prompt",
    "candidate_skills",
    "make_affordance",
    "make_scorer",
    "option_text",
    "register_affordance",
    "register_scorer",
]
