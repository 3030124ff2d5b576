"""``robot=pybullet``: the simulator behind the robot interface, so one loop runs in sim and
on hardware. Each ``send_action`` is one control step (1/20 s of simulated time). An arm
command without motion (a hold) keeps the joints where they are. With the safety layer, the
layer sees the grasp point along each step's joint path (the simulator's own IK through
:class:`~vla.robot.arm_shadow.ArmShadow`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.contract import CAMERA_NAMES
from sim.tasks import load_tasks
from vla.robot.base import Robot, refuse_nonfinite, register_robot
from vla.robot.cameras import SimCamera
from vla.robot.safety import PosePredictor, SafetyLimits, as_limits

PATH_SAMPLES = 4  # grasp points checked along each step's joint-space path


@register_robot("pybullet")
class PyBulletRobot(Robot):
    """A :class:`sim.env.VLAEnv` episode driven through the robot interface.

    Args:
        scene: ``tabletop`` or ``mobile``.
        tasks: suite name, task-spec path or list of TaskSpec (the episode's task).
        task_index: which task of ``tasks``; None: picked from ``seed``.
        seed: the episode seed (``env.reset(seed=...)``).
        image_size: camera resolution, pixels.
        safety: True (the sim Panda's limits), a ``SafetyLimits``/dict, or False (off).
        watchdog_s: hold when no action came for this long (None: off).
    """

    def __init__(
        self,
        scene: str = "tabletop",
        tasks: Any = None,
        task_index: int | None = None,
        seed: int = 0,
        image_size: int = 64,
        safety: bool | dict | SafetyLimits = False,
        watchdog_s: float | None = None,
    ) -> None:
        super().__init__(as_limits(safety), watchdog_s)
        if isinstance(tasks, str) and task_index is not None:  # a bad index: fail before connect
            count = len(load_tasks(tasks))
            if not 0 <= task_index < count:
                raise ValueError(f"task_index={task_index} is out of range: {tasks} has {count}")
        self.scene, self.tasks, self.task_index = scene, tasks, task_index
        self.seed, self.size = seed, image_size
        self.env: Any = None
        self._shadow: Any = None  # an ArmShadow while connected with the safety layer
        self.last_info: dict = {}
        self._obs: dict[str, Any] = {}
        self.cameras = {n: SimCamera(lambda: self._obs["images"], n) for n in CAMERA_NAMES}

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.size, self.size, 3)

    @property
    def is_connected(self) -> bool:
        return self.env is not None

    def _connect(self) -> None:
        from sim.env import VLAEnv

        self.env = VLAEnv(self.scene, tasks=self.tasks, image_size=self.size)
        if self.safety is not None:
            from vla.robot.arm_shadow import ArmShadow

            self._shadow = ArmShadow()
        self.reset_episode(self.seed)

    def reset_episode(self, seed: int | None = None) -> dict[str, Any]:
        """Start a new episode (same task unless ``task_index`` is None); returns the obs."""
        options = {} if self.task_index is None else {"task_index": self.task_index}
        self._obs, self.last_info = self.env.reset(seed=seed, options=options)
        if self.safety is not None:
            self.safety.reset()
        return self.get_observation()

    def _disconnect(self) -> None:
        self.env.close()
        self.env = None
        if self._shadow is not None:
            self._shadow.close()
            self._shadow = None

    def _observe(self) -> dict[str, Any]:
        images = {name: cam.read() for name, cam in self.cameras.items()}
        return {
            "images": images,
            "state": self._obs["state"].copy(),
            "instruction": self._obs["instruction"],
        }

    def _apply(self, action: np.ndarray) -> None:
        refuse_nonfinite("a pybullet command", action)
        if action[10] == 0 and not np.any(action[0:6]):
            self._hold_joints(action)
            return
        self._obs, _, _, _, self.last_info = self.env.step(action)

    def _ee_position(self) -> np.ndarray:
        return np.asarray(self._obs["state"][:3], np.float64)

    def _joints(self) -> list[float]:
        from sim.robot import ARM_JOINTS

        panda = self.env.unwrapped.world.robot
        return [panda.client.getJointState(panda.body, j)[0] for j in ARM_JOINTS]

    def pose_predictor(self) -> PosePredictor | None:
        """The grasp point along the step: from the joints now to the targets the simulator's
        own IK will give for the action, through forward kinematics. An IK solution that
        cannot turn the hand as asked swings the arm; this sees it before it is sent."""
        if self._shadow is None:
            return None
        panda, shadow, now = self.env.unwrapped.world.robot, self._shadow, self._joints()

        def predict(action: np.ndarray) -> np.ndarray:
            targets = panda._arm_targets(action[0:3], action[3:6])
            return shadow.grasp_points(now, targets, PATH_SAMPLES)

        return predict

    def _hold_joints(self, action: np.ndarray) -> None:
        """An arm command without motion: keep the joints where they are. (The simulator
        would solve IK for the pose again, and near a joint limit that solution wanders.)"""
        from sim.robot import TERMINATE

        panda = self.env.unwrapped.world.robot
        panda.drive_arm(self._joints())
        panda.command_gripper(bool(action[6] > 0.0))
        still = np.array(action, np.float32)
        still[10] = TERMINATE  # the simulator's "nothing moves" for one control period
        self._obs, _, _, _, self.last_info = self.env.step(still)
        self.last_info["terminate"] = False

    def is_success(self) -> bool:
        """Whether the episode's task goal holds."""
        return bool(self.env.is_success())
