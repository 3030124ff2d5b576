"""StallToggle: the gripper flips once after the arm stalls, and stays flipped until reset."""

import numpy as np
import pytest

from vla.policies.stall_toggle import StallToggle


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
