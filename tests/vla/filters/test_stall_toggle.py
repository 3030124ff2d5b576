"""StallToggle: the gripper flips once after the arm stalls, and stays flipped until reset."""

import json
import sys

import numpy as np
import pytest

from vla.cli import eval as eval_app
from vla.filters import wrap_policy
from vla.filters.stall_toggle import StallToggle


def action(translation=(0.0, 0.0, 0.0), gripper=-1.0, mode=0):
    a = np.zeros(11, np.float32)
    a[:3], a[6], a[10] = translation, gripper, mode
    return a


def test_flips_after_steps_still_and_latches_until_reset():
    rule = StallToggle(3)
    moving = action((0.0, 0.0, -1.0))
    assert rule(moving)[6] == -1.0
    outputs = [rule(action())[6] for _ in range(3)]
    assert outputs == [-1.0, -1.0, 1.0]  # the third still step closes
    assert rule(moving)[6] == 1.0  # and it stays closed while the arm lifts
    assert rule(action((0, 0, 1.0), gripper=-1.0))[6] == 1.0
    rule.reset()
    assert rule(moving)[6] == -1.0


def test_opens_a_closed_gripper_and_ignores_base_mode():
    rule = StallToggle(2)
    assert rule(action(gripper=1.0, mode=1))[6] == 1.0  # driving the base is not a stall
    assert rule(action(gripper=1.0, mode=1))[6] == 1.0
    rule(action(gripper=1.0))
    assert rule(action(gripper=1.0))[6] == -1.0


def test_movement_restarts_the_count_and_zero_turns_it_off():
    rule = StallToggle(2)
    for a in (action(), action((0.3, 0, 0)), action()):
        assert rule(a)[6] == -1.0
    off = StallToggle(0)
    assert all(off(action())[6] == -1.0 for _ in range(10))
    with pytest.raises(ValueError, match="stall_toggle_steps"):
        StallToggle(-1)


def test_goal_gate_homes_towards_a_far_goal_before_flipping():
    rule = StallToggle(2, goal_reach=0.06)
    below = np.array([0.0, 0.0, -0.12])  # the goal head: release point 12 cm below
    assert rule(action(gripper=1.0), below)[6] == 1.0
    out = rule(action(gripper=1.0), below)  # stalled, but the goal is far: step down
    assert out[6] == 1.0 and np.allclose(out[:3], [0.0, 0.0, -1.0])
    near = np.array([0.0, 0.03, -0.03])  # inside the reach, but homing goes on to settle
    assert np.allclose(rule(action(gripper=1.0), near)[:3], [0.0, 1.0, -1.0])
    assert rule(action(gripper=1.0), np.array([0.0, 0.0, -0.01]))[6] == -1.0  # settled: open


def test_goal_gate_flips_at_once_near_the_goal_and_gives_up_homing():
    rule = StallToggle(1, goal_reach=0.06)
    assert rule(action(gripper=1.0), np.array([0.0, 0.0, -0.04]))[6] == -1.0
    rule = StallToggle(1, goal_reach=0.06)
    far = np.array([0.3, 0.0, 0.0])  # a goal estimate that never comes closer
    outs = [rule(action(gripper=1.0), far) for _ in range(15)]
    assert [o[6] for o in outs].index(-1.0) == 10  # MAX_HOMING steps, then it flips
    assert np.allclose(outs[0][:3], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="stall_goal_reach"):
        StallToggle(3, goal_reach=-0.1)


class StillPolicy:
    """Stands still with the gripper closed; its goal head says: 12 cm straight down."""

    config = type("Config", (), {"goal_head": True})()

    def __init__(self):
        self.last_goal = None
        self.resets = 0

    def reset(self):
        self.resets += 1

    def select_action(self, observation):
        self.last_goal = np.array([0.0, 0.0, -0.12])
        return action(gripper=1.0)


def test_the_filter_wraps_any_policy_and_takes_the_robots_step_size():
    policy = StillPolicy()
    wrapped = wrap_policy(policy, "stall_toggle", steps=1, goal_reach=0.06, step_m=0.06)
    wrapped.reset()
    out = [wrapped.select_action({}) for _ in range(12)]
    assert policy.resets == 1
    assert np.allclose(out[0][:3], [0.0, 0.0, -1.0])  # 12 cm at 6 cm per unit: clipped to 1
    assert [o[6] for o in out].index(-1.0) == 10  # homes MAX_HOMING steps, then opens
    assert wrap_policy(policy, None) is policy
    with pytest.raises(ValueError, match="unknown policy_filter"):
        wrap_policy(policy, "nope")


def test_the_goal_gate_needs_a_goal_head():
    class NoGoal:
        config = None

    with pytest.raises(ValueError, match="needs a policy with a goal head"):
        wrap_policy(NoGoal(), "stall_toggle", steps=3, goal_reach=0.06)
    assert wrap_policy(NoGoal(), "stall_toggle", steps=3, goal_reach=0.0).rule.steps == 3


def test_vla_eval_takes_the_filter_and_its_options_from_the_command_line(tmp_path, monkeypatch):
    argv = ["vla-eval", "policy=expert", "n_episodes=1", "n_videos=0", f"output_dir={tmp_path}"]
    argv += ["policy_filter=stall_toggle", "+policy_filter_options={steps: 4, goal_reach: 0}"]
    monkeypatch.setattr(sys, "argv", argv)
    eval_app.main()
    info = json.loads((tmp_path / "eval_info.json").read_text())
    assert info["config"]["policy_filter"] == {
        "name": "stall_toggle",
        "steps": 4.0,
        "goal_reach": 0.0,
    }
    assert info["per_episode"][0]["success"]  # the expert keeps its own gripper timing
