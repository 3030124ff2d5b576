"""Robot registry, the pybullet backend, and the xArm backend against a fake SDK object."""

import numpy as np
import pytest

from vla.robot import ROBOTS, XArmRobot, make_robot
from vla.robot.xarm_robot import matrix_rpy, rotvec_matrix, rpy_matrix


def test_registry_and_unknown_robot():
    assert {"pybullet", "xarm"} <= set(ROBOTS)
    with pytest.raises(ValueError, match="unknown robot 'ur5'; choose one of"):
        make_robot("ur5")


def test_pybullet_robot_follows_the_contract_and_returns_clipped_action():
    robot = make_robot("pybullet", tasks="single", task_index=0, seed=1, safety=True)
    with pytest.raises(RuntimeError, match="not connected"):
        robot.get_observation()
    with robot:
        obs = robot.get_observation()
        assert (
            obs["images"]["front"].shape == (64, 64, 3) and obs["images"]["wrist"].dtype == np.uint8
        )
        assert obs["state"].shape == (10,) and obs["state"].dtype == np.float32
        assert obs["instruction"]
        assert robot.observation_features["state"]["shape"] == (10,)
        assert robot.action_features["action"]["shape"] == (11,)
        sent = robot.send_action(np.r_[0.4, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0])
        before = obs["state"][0]
        assert sent[0] == pytest.approx(0.4)
        assert robot.get_observation()["state"][0] > before
        sent = robot.send_action(np.r_[9.0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0])
        assert sent[0] <= 1.0 and robot.safety_counts()["range"] == 1
    assert not robot.is_connected


class FakeXArm:
    """Stands in for xarm.wrapper.XArmAPI: records calls, keeps a pose."""

    def __init__(self):
        self.calls = []
        self.pose = [400.0, 0.0, 200.0, np.pi, 0.0, 0.0]
        self.gripper = 850.0

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            if name == "set_position":
                self.pose = [kwargs[k] for k in ("x", "y", "z", "roll", "pitch", "yaw")]
            if name == "set_gripper_position":
                self.gripper = args[0]
            return 0

        return call

    def get_position(self, is_radian=True):
        return 0, list(self.pose)

    def get_gripper_position(self):
        return 0, self.gripper


def calls(fake, name):
    return [c for c in fake.calls if c[0] == name]


def test_xarm_maps_rt1_deltas_to_cartesian_and_gripper_calls():
    fake = FakeXArm()
    robot = XArmRobot(sdk=fake, watchdog_s=None)
    with robot:
        assert [c[0] for c in fake.calls[:4]] == [
            "connect",
            "clean_error",
            "clean_warn",
            "motion_enable",
        ]
        obs = robot.get_observation()
        assert obs["state"][:3] == pytest.approx([0.4, 0.0, 0.2])
        assert obs["images"]["front"].shape == (64, 64, 3)
        robot.send_action(np.r_[0.5, -0.5, 0.25, 0, 0, 0.2, 1.0, 0, 0, 0, 0])
        move = calls(fake, "set_position")[-1][2]
        # step_m = 0.01 m: 0.5 -> +5 mm; the yaw delta 0.2 x 0.05 rad about base z
        assert (move["x"], move["y"], move["z"]) == pytest.approx((405.0, -5.0, 202.5))
        assert move["relative"] is False and move["wait"] is False
        expected = rotvec_matrix(np.array([0, 0, 0.01])) @ rpy_matrix(np.pi, 0, 0)
        assert rpy_matrix(move["roll"], move["pitch"], move["yaw"]) == pytest.approx(expected)
        # gripper: closedness 1.0 capped at 0.9 -> 850 * (1 - 0.9) / 2
        assert calls(fake, "set_gripper_position")[-1][1][0] == pytest.approx(42.5)
        n_moves = len(calls(fake, "set_position"))
        robot.send_action(np.r_[np.zeros(6), -1.0, 0.5, 0.5, 0.5, 1])  # base mode: xArm has none
        assert len(calls(fake, "set_position")) == n_moves
        robot.emergency_stop()
        assert calls(fake, "emergency_stop")
    assert calls(fake, "disconnect")
    assert ("set_state", (4,), {}) in fake.calls  # disconnect holds first


def test_xarm_workspace_clamp_and_sdk_error():
    fake = FakeXArm()
    fake.pose[0] = 598.0
    with XArmRobot(sdk=fake, watchdog_s=None) as robot:
        robot.send_action(np.r_[1.0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0])
        assert calls(fake, "set_position")[-1][2]["x"] == pytest.approx(600.0)
        assert robot.safety_counts()["workspace"] == 1
        fake.get_position = lambda is_radian=True: (9, [0] * 6)
        with pytest.raises(RuntimeError, match="get_position returned error code 9"):
            robot.send_action(np.zeros(11))


def test_xarm_refuses_to_run_without_safety_and_names_the_extra():
    with pytest.raises(ValueError, match="always runs with the safety layer"):
        XArmRobot(sdk=FakeXArm(), safety=False)
    try:
        import xarm  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match=r"pip install 'vla-stack\[hardware\]'"):
            XArmRobot(watchdog_s=None).connect()


def test_rpy_round_trip():
    for rpy in [(0.1, -0.4, 2.0), (np.pi, 0.0, 0.3), (-1.0, 1.2, -3.0)]:
        assert matrix_rpy(rpy_matrix(*rpy)) == pytest.approx(rpy)


@pytest.mark.parametrize(
    "limits, match",
    [
        ({"workspace_high": (0.6, float("nan"), 0.5)}, "safety.workspace_high must be finite"),
        ({"max_gripper_closedness": float("nan")}, "max_gripper_closedness must be finite"),
        ({"max_base_speed_mps": -1}, "max_base_speed_mps must be >= 0"),
        ({"step_m": -0.01}, "step_m must be > 0"),
    ],
)
def test_xarm_refuses_limits_that_would_bend_the_safety_layer(limits, match):
    fake = FakeXArm()
    with pytest.raises(ValueError, match=match):
        XArmRobot(sdk=fake, watchdog_s=None, safety=limits)
    assert not fake.calls  # nothing reached the arm


def test_xarm_never_sends_nan_even_when_the_arm_reports_one():
    fake = FakeXArm()
    with XArmRobot(sdk=fake, watchdog_s=None) as robot:
        robot.send_action(np.r_[0.5, np.zeros(5), -1, 0, 0, 0, 0])
        fake.pose = [float("nan")] + fake.pose[1:]
        with pytest.raises(ValueError, match="non-finite pose"):
            robot.send_action(np.r_[0.5, np.zeros(5), -1, 0, 0, 0, 0])
        assert robot.safety_counts()["nonfinite"] == 1  # the layer held; the backend refused
        with pytest.raises(ValueError, match="refusing to send an xArm command"):
            robot._apply(np.r_[np.nan, np.zeros(10)].astype(np.float32))
    for name, args, kwargs in fake.calls:
        values = [*args, *kwargs.values()]
        assert all(np.isfinite(v) for v in values if isinstance(v, float)), (name, args, kwargs)
    assert ("set_state", (4,), {}) in fake.calls


def test_xarm_grasp_offset_keeps_rotations_from_carrying_the_fingertips_out():
    fake = FakeXArm()
    fake.pose = [400.0, 0.0, 200.0, np.pi, 0.6, 0.0]  # tool tilted back
    # Fingertips 172 mm below the reported TCP (its offset not set on the controller).
    robot = XArmRobot(sdk=fake, watchdog_s=None, grasp_offset_m=(0, 0, 0.172))
    with robot:
        grasp = robot._ee_position()
        assert grasp[2] == pytest.approx(0.058, abs=1e-3)  # 8 mm above the box floor
        for _ in range(6):  # pitch on and on: the fingertips swing down towards the table
            robot.send_action(np.r_[0, 0, 0, 0, -1.0, 0, -1, 0, 0, 0, 0])
            grasp = robot._ee_position()
            assert grasp[2] >= 0.05 - 1e-6
        assert robot.safety_counts()["pose"] >= 1
    with pytest.raises(ValueError, match="grasp_offset_m must be 3 finite"):
        XArmRobot(sdk=FakeXArm(), grasp_offset_m=(0, float("nan"), 0))
