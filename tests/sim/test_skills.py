"""Every registered skill: the scripted expert succeeds, and success checks can fail."""

import numpy as np
import pytest

from sim.env import VLAEnv
from sim.expert import ScriptedExpert
from sim.rollout import run_skill
from sim.skills import SKILLS
from sim.tasks import parse_tasks

# One case per skill kind: (scene, skill text, initial predicates, objects)
CASES = {
    "pick": ("tabletop", "pick up the red block", [], ["red block", "blue bowl"]),
    "place_in": ("tabletop", "place the red block in the blue bowl", ["holding(red block)"], []),
    "place_on": ("tabletop", "place the red block on the green block", ["holding(red block)"], []),
    "place_at": (
        "tabletop",
        "place the red block at the top left corner",
        ["holding(red block)"],
        [],
    ),
    "place_on_area": (
        "mobile",
        "place the red block on the counter",
        ["holding(red block)", "robot_at(counter)"],
        [],
    ),
    "go_to": ("mobile", "go to the counter", ["robot_at(table)"], ["red block"]),
    "done": ("tabletop", "done", [], ["red block"]),
}


def make_env(scene, skill, initial, objects):
    named = (
        sorted({*objects, "red block", "blue bowl", "green block"})
        if scene == "tabletop"
        else objects
    )
    spec = {
        "instruction": skill,
        "goal": ["holding(red block)"],
        "scene": scene,
        "initial": initial,
        "objects": named or None,
    }
    if scene == "mobile":
        spec["goal"] = ["robot_at(counter)"]
    return VLAEnv(scene, tasks=parse_tasks([spec]), image_size=48)


def test_every_registered_skill_has_a_case():
    assert set(SKILLS) <= {c.replace("_area", "") for c in CASES}


@pytest.mark.parametrize("case", sorted(CASES))
def test_expert_solves_skill_on_several_seeds(case):
    env = make_env(*CASES[case])
    expert = ScriptedExpert(env)
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        result = run_skill(env, expert, CASES[case][1], obs)
        assert result.success, f"{case} failed on seed {seed} after {result.steps} steps"
        assert result.steps < 100
    env.close()


def test_success_check_fails_when_nothing_happens():
    env = make_env(*CASES["pick"])
    obs, _ = env.reset(seed=0)

    class Idle:
        def reset(self):
            pass

        def select_action(self, observation):
            out = np.zeros(11, dtype=np.float32)
            out[6] = -1
            return out

    result = run_skill(env, Idle(), "pick up the red block", obs, max_steps=5)
    assert not result.success and result.steps == 5
    env.close()
