"""Limits that could bend the safety layer are refused; a seeded property fuzz of limits,
pose models and actions finds no command that is non-finite, reversed or out of a limit."""

import math

import numpy as np
import pytest

from vla.robot import SafetyLayer, SafetyLimits, check_action
from vla.robot.fuzz import fuzz_safety
from vla.robot.limits import ARM_CAPS, BASE_CAPS, SCALES, as_limits

NUMBER_FIELDS = SCALES + ARM_CAPS + BASE_CAPS + ("max_gripper_closedness",)
NOT_NUMBERS = [math.nan, math.inf, -math.inf, True, "0.5", None, [0.1]]


@pytest.mark.parametrize("name", NUMBER_FIELDS)
@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_every_number_field_refuses_nan_inf_and_non_numbers(name, value):
    with pytest.raises(ValueError, match=f"safety.{name} must be"):
        SafetyLimits(**{name: value})


@pytest.mark.parametrize("name", SCALES + ARM_CAPS)
def test_scales_and_arm_caps_must_be_positive(name):
    for value in (0.0, -1e-6, -1.0):
        with pytest.raises(ValueError, match=f"safety.{name} must be > 0"):
            SafetyLimits(**{name: value})


@pytest.mark.parametrize("name", BASE_CAPS)
def test_base_caps_may_lock_the_base_but_never_reverse_it(name):
    assert getattr(SafetyLimits(**{name: 0}), name) == 0.0  # the xArm has no base
    with pytest.raises(ValueError, match=f"safety.{name} must be >= 0"):
        SafetyLimits(**{name: -1.0})


def test_gripper_cap_and_workspace_box():
    SafetyLimits(max_gripper_closedness=-1.0)
    for bad in (1.01, -1.5):
        with pytest.raises(ValueError, match="max_gripper_closedness must be in"):
            SafetyLimits(max_gripper_closedness=bad)
    for low, high in [((0, 0, 0), (1, 1, 0)), ((1, 0, 0), (0, 1, 1))]:
        with pytest.raises(ValueError, match="3 lows below 3 highs"):
            SafetyLimits(workspace_low=low, workspace_high=high)
    for corner in [(0.1, math.nan, 0.2), (0.0, 0.0), "box", (0.1, 0.1, math.inf)]:
        with pytest.raises(ValueError, match="safety.workspace_low"):
            SafetyLimits(workspace_low=corner)


def test_config_values_reach_the_same_checks():
    with pytest.raises(ValueError, match="max_base_speed_mps must be >= 0"):
        as_limits({"max_base_speed_mps": -1})  # vla-deploy "robot.safety={...: -1}"
    with pytest.raises(ValueError, match="robot.safety must be"):
        as_limits("yes")
    assert as_limits({"workspace_low": [0.1, -0.2, 0.0]}).workspace_low == (0.1, -0.2, 0.0)


def test_property_fuzz_finds_no_unsafe_command():
    report = fuzz_safety(cases=3000, seed=7)
    assert report.cases == 3000 and report.holds > 50
    assert report.violations == 0, dict(report.broken)
    assert report.bad_limits_refused > 5 and report.bad_limits_accepted == []
    for kind in ("nonfinite", "jump", "workspace", "pose", "base_speed", "gripper", "mode"):
        assert report.clamps[kind] > 0, kind  # every limit was exercised


def test_pull_back_from_outside_keeps_the_jump_and_step_limits():
    limits = SafetyLimits()  # box x <= 0.85, step 0.03 m per unit, jump 0.5
    layer = SafetyLayer(limits)
    ee = np.array([0.95, 0.0, 0.2])  # pushed 10 cm out of the box
    sent = layer.filter(np.r_[1.0, np.zeros(9), 0.0], ee)
    assert -0.5 <= sent[0] < 0  # comes back, but no faster than the jump limit allows
    assert check_action(sent, np.zeros(11), ee, limits) == []
    second = layer.filter(np.r_[1.0, np.zeros(9), 0.0], ee)
    assert second[0] == pytest.approx(-1.0)  # then at the step limit
    assert check_action(second, sent, ee, limits) == []


def rigid_tool(ee: np.ndarray, lever: np.ndarray, limits: SafetyLimits):
    """Predictor of a tool turning about a point ``lever`` (base frame) from the grasp point."""
    from vla.robot.xarm_robot import rotvec_matrix

    def predict(action):
        turn = rotvec_matrix(np.asarray(action[3:6], np.float64) * limits.turn_rad)
        return ee + action[0:3] * limits.step_m + (turn - np.eye(3)) @ -lever

    return predict


def test_a_rotation_cannot_carry_the_grasp_point_out_of_the_box():
    limits = SafetyLimits(max_action_jump=2.0)
    ee = np.array([0.5, 0.0, 0.49])  # 1 cm under the top of the box
    lever = np.array([-0.2, 0.0, 0.0])  # the turn is about a wrist 20 cm behind the grasp point
    predict = rigid_tool(ee, lever, limits)
    pitch_up = np.r_[0, 0, 0, 0, -1.0, 0, -1, 0, 0, 0, 0]  # lifts the grasp point ~3 cm
    assert predict(pitch_up)[2] > 0.515  # what the translation-only check let through
    layer = SafetyLayer(limits)
    sent = layer.filter(pitch_up, ee, predict)
    assert sent[4] == pytest.approx(-0.25) and layer.counts["pose"] == 1  # a quarter fits
    assert predict(sent)[2] <= 0.5 + 1e-6
    assert check_action(sent, np.zeros(11), ee, limits, predicted=predict(sent)) == []


def test_the_displacement_limit_holds_for_rotations():
    limits = SafetyLimits(max_action_jump=2.0)
    ee = np.array([0.5, 0.0, 0.25])
    predict = rigid_tool(ee, np.array([0.0, 0.0, 0.4]), limits)  # a 40 cm lever
    turn = np.r_[0.3, 0, 0, 1.0, 0, 0, -1, 0, 0, 0, 0]
    assert np.linalg.norm(predict(turn) - ee) > 0.06  # 6 cm in one step, limit 3 cm
    sent = SafetyLayer(limits).filter(turn, ee, predict)
    assert np.linalg.norm(predict(sent) - ee) <= limits.max_translation_m + 1e-3
    assert sent[3] > 0  # still turns the way it was asked, only less


def test_unsafe_or_unknown_predictions_stop_the_arm():
    layer = SafetyLayer()
    ee = np.array([0.5, 0.0, 0.25])
    sent = layer.filter(np.r_[0.5, 0, 0, 0.5, 0, 0, 1, 0, 0, 0, 0], ee, lambda a: ee * np.nan)
    assert np.all(sent[0:6] == 0) and sent[6] == 1.0  # no arm motion; the gripper still acts
    assert layer.counts["pose"] == 1
