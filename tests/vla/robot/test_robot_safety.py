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
