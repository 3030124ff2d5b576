"""Candidate skills match sim's skill texts and cover the scene."""

from planners.candidates import SKILL_TEMPLATES, SceneDescription, candidate_skills
from sim.skill_text import SKILL_TEMPLATES as SIM_TEMPLATES
from sim.skill_text import parse_skill


def test_templates_match_sim():
    assert SKILL_TEMPLATES == SIM_TEMPLATES


def test_tabletop_candidates():
    scene = SceneDescription(("red block", "green block", "blue bowl"), places=("middle",))
    skills = candidate_skills(scene)
    assert skills[-1] == "done"
    assert "pick up the red block" in skills
    assert "place the red block in the blue bowl" in skills
    assert "place the red block on the green block" in skills
    assert "place the green block at the middle" in skills
    assert "place the red block on the red block" not in skills
    assert not any("pick up the blue bowl" == s for s in skills)
    assert len(skills) == len(set(skills)) == 2 + 2 * (1 + 1 + 1) + 1
    for skill in skills:
        parse_skill(skill)  # every candidate is a valid sim skill text


def test_mobile_candidates():
    scene = SceneDescription(("red block", "blue bowl"), areas=("table", "counter"))
    skills = candidate_skills(scene)
    assert "go to the counter" in skills
    assert "place the red block on the table" in skills
    assert parse_skill("go to the counter").name == "go_to"
