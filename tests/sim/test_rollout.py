"""run_task: the closed skill loop ends (as a failure) when the state cannot be planned."""

import pytest

from sim.env import VLAEnv
from sim.expert import ScriptedExpert
from sim.rollout import run_task
from sim.tasks import parse_tasks

TASK = parse_tasks(
    [
        {
            "instruction": "put the red block in the blue bowl",
            "goal": ["in(red block, blue bowl)"],
            "objects": ["red block", "blue bowl"],
        }
    ]
)[0]


def planner_failing_after(n_ok: int):
    """A next_skill that picks the red block, then cannot plan (after ``n_ok`` answers)."""
    calls = []

    def next_skill(state):
        calls.append(state)
        if len(calls) > n_ok:
            raise ValueError("cannot plan: the red block is on the floor")
        return "pick up the red block"

    return next_skill


def test_unplannable_state_after_a_skill_ends_the_episode():
    env = VLAEnv("tabletop", tasks=[TASK], image_size=16)
    obs, _ = env.reset(seed=0, options={"task": TASK})
    results = run_task(env, ScriptedExpert(env), planner_failing_after(1), obs, max_skills=5)
    assert [r.skill for r in results] == ["pick up the red block"]
    assert results[0].success and not env.is_success()
    env.close()


def test_unplannable_task_at_the_start_is_an_error():
    env = VLAEnv("tabletop", tasks=[TASK], image_size=16)
    obs, _ = env.reset(seed=0, options={"task": TASK})
    with pytest.raises(ValueError, match="cannot plan"):
        run_task(env, ScriptedExpert(env), planner_failing_after(0), obs, max_skills=5)
    env.close()
