"""Safety layer: every clamp holds on random and adversarial actions; watchdog; e-stop."""

import time

import numpy as np
import pytest

from vla.robot import SafetyLayer, SafetyLimits, Watchdog, check_action, make_robot


def adversarial(rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(6)
    a = rng.uniform(-1, 1, 11)
    a[10] = rng.integers(3)
    if kind == 0:
        a *= 10.0 ** rng.integers(1, 30)
    elif kind == 1:
        a[rng.integers(11)] = rng.choice([np.nan, np.inf, -np.inf])
    elif kind == 2:
        a = -np.sign(a) * 1.0
    elif kind == 3:
        a[10] = rng.uniform(-5, 5)
    return a


def test_fuzzed_actions_never_break_a_limit():
    rng = np.random.default_rng(0)
    limits = SafetyLimits(
        max_translation_m=0.02,
        max_base_speed_mps=0.4,
        max_action_jump=0.3,
        max_gripper_closedness=0.8,
    )
    layer = SafetyLayer(limits)
    ee = np.array([0.5, 0.0, 0.2])
    for _ in range(2000):
        previous = layer.previous.copy()
        safe = layer.filter(adversarial(rng), ee)
        assert check_action(safe, previous, ee, limits) == []
        ee = ee + safe[:3] * limits.step_m
    assert layer.counts["nonfinite"] > 0 and layer.counts["workspace"] > 0
    assert layer.counts["jump"] > 0 and layer.counts["translation"] > 0


def test_nan_is_rejected_and_gripper_kept():
    layer = SafetyLayer()
    layer.filter(np.r_[np.zeros(6), 1.0, np.zeros(4)], [0.5, 0, 0.2])
    safe = layer.filter(np.full(11, np.nan), [0.5, 0, 0.2])
    assert np.all(safe[[0, 1, 2, 3, 4, 5, 7, 8, 9, 10]] == 0) and safe[6] == 1.0
    assert layer.counts["nonfinite"] == 1


def test_workspace_box_stops_the_end_effector_at_the_wall():
    layer = SafetyLayer(SafetyLimits(max_action_jump=2.0))
    ee = np.array([0.84, 0.0, 0.2])
    safe = layer.filter(np.r_[1.0, np.zeros(9), 0.0], ee)
    assert ee[0] + safe[0] * 0.03 == pytest.approx(0.85, abs=1e-6)
    assert layer.counts["workspace"] == 1


def test_bad_limits_and_unknown_keys_are_one_line_errors():
    with pytest.raises(ValueError, match="workspace"):
        SafetyLimits(workspace_low=(1, 0, 0), workspace_high=(0, 1, 1))
    with pytest.raises(ValueError, match="unknown safety limits"):
        SafetyLimits.from_mapping({"max_speed": 1})


def test_watchdog_fires_when_actions_stop():
    fired = []
    dog = Watchdog(0.05, lambda: fired.append(time.monotonic()))
    dog.start()
    try:
        for _ in range(5):
            dog.feed()
            time.sleep(0.01)
        assert not fired
        stalled = time.monotonic()
        time.sleep(0.12)
    finally:
        dog.stop()
    assert fired and fired[0] - stalled < 0.05 + 0.03


def test_emergency_stop_latches_until_reset():
    with make_robot("pybullet", tasks="single", task_index=0, seed=3, safety=True) as robot:
        start = robot.get_observation()["state"].copy()
        robot.emergency_stop()
        assert robot.estopped
        for _ in range(3):
            sent = robot.send_action(np.r_[1.0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0])
            assert np.all(sent[:6] == 0)
        moved = robot.get_observation()["state"][:3] - start[:3]
        assert np.abs(moved).max() < 0.005
        robot.reset_emergency_stop()
        sent = robot.send_action(np.r_[0.3, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0])
        assert sent[0] == pytest.approx(0.3)


X = np.r_[1.0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0]


@pytest.mark.parametrize("stop", ["hold", "watchdog", "emergency_stop"])
def test_a_hold_resets_the_jump_reference(stop):
    """1.0 -> hold -> 1.0 is a jump of 1.0 from rest: the 0.5 limit must apply again."""
    # long enough that a loaded machine does not fire it between the first two actions
    watchdog_s = 0.4 if stop == "watchdog" else None
    with make_robot(
        "pybullet", tasks="single", task_index=0, seed=3, safety=True, watchdog_s=watchdog_s
    ) as robot:
        robot.send_action(X * 0.5)
        robot.send_action(X)
        assert robot.safety.previous[0] == pytest.approx(1.0)
        if stop == "hold":
            robot.hold()
        elif stop == "watchdog":
            deadline = time.monotonic() + 5.0
            while robot.watchdog.fired == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert robot.watchdog.fired >= 1
        else:
            robot.emergency_stop()
            assert np.all(robot.send_action(X)[:6] == 0)
            robot.reset_emergency_stop()
        sent = robot.send_action(X)
        assert sent[0] == pytest.approx(0.5)
        assert robot.safety_counts()["jump"] >= 1


def test_sustained_rotation_keeps_the_simulated_grasp_point_in_the_box():
    """Driven into a corner, then rolled about x for 75 steps: the simulator's IK runs into
    the joint limits and (without the pose check) swung the hand 23 cm out of the box and
    19 cm in one step."""
    limits = SafetyLimits()
    low, high = np.asarray(limits.workspace_low), np.asarray(limits.workspace_high)
    with make_robot("pybullet", tasks="single", task_index=0, seed=3, safety=limits) as robot:
        robot.reset_episode(2)
        ee = robot.get_observation()["state"][:3].astype(np.float64)
        outside = largest_step = 0.0
        for t in range(115):
            action = (
                np.r_[1.0, 1.0, 1.0, np.zeros(8)] if t < 40 else np.r_[0, 0, 0, 1.0, np.zeros(7)]
            )
            robot.send_action(action)
            now = robot.get_observation()["state"][:3].astype(np.float64)
            outside = max(outside, float(np.max(np.maximum(low - now, now - high))))
            largest_step = max(largest_step, float(np.linalg.norm(now - ee)))
            ee = now
        assert robot.safety_counts()["pose"] > 10
    assert outside <= 1e-3 and largest_step <= limits.max_translation_m


def test_backends_refuse_non_finite_commands():
    with make_robot("pybullet", tasks="single", task_index=0, seed=3) as robot:
        before = robot.get_observation()["state"].copy()
        with pytest.raises(ValueError, match="refusing to send a pybullet command"):
            robot._apply(np.full(11, np.nan, np.float32))
        with pytest.raises(ValueError, match="11 finite numbers"):
            robot.send_action(np.r_[np.inf, np.zeros(10)])
        assert np.array_equal(robot.get_observation()["state"], before)
