"""``robot=pybullet``: the simulator behind the robot interface, so one loop runs in sim and
on hardware. Each ``send_action`` is one control step (1/20 s of simulated time)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.contract import CAMERA_NAMES
from sim.tasks import load_tasks
from vla.robot.base import Robot, register_robot
from vla.robot.cameras import SimCamera
from vla.robot.safety import SafetyLimits, as_limits


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

    def _observe(self) -> dict[str, Any]:
        images = {name: cam.read() for name, cam in self.cameras.items()}
        return {
            "images": images,
            "state": self._obs["state"].copy(),
            "instruction": self._obs["instruction"],
        }

    def _apply(self, action: np.ndarray) -> None:
        self._obs, _, _, _, self.last_info = self.env.step(action)

    def _ee_position(self) -> np.ndarray:
        return np.asarray(self._obs["state"][:3], np.float64)

    def is_success(self) -> bool:
        """Whether the episode's task goal holds."""
        return bool(self.env.is_success())
