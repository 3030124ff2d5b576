"""Options of ``vla-deploy`` (:class:`DeployConfig`) and its ``robot`` option group.

``robot=pybullet`` (:class:`PyBulletRobotConfig`) or ``robot=xarm``
(:class:`XArmRobotConfig`): every field but ``name`` goes to the backend's constructor
(:func:`vla.robot.make_robot`). ``policy`` means what it means in every app: a registered
name, a checkpoint folder or the ``ws://host:port`` URL of a ``vla-serve`` server.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from sim import TEST_SEED_START
from sim.contract import CONTROL_HZ
from vla.options import at_least, positive
from vla.planning.config import PlannerConfig


@dataclass
class RobotConfig:
    """A robot backend by its registered name (:data:`vla.robot.ROBOTS`)."""

    name: str = "pybullet"

    def options(self) -> dict[str, Any]:
        """The constructor options (every field but ``name``)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "name"}


def _check_robot(robot: Any) -> None:
    at_least(robot, 1, "image_size", prefix="robot.")
    positive(robot, "watchdog_s", prefix="robot.")


@dataclass
class PyBulletRobotConfig(RobotConfig):
    """``robot=pybullet``: the simulator behind the robot interface (vla.robot.PyBulletRobot)."""

    name: str = "pybullet"
    scene: str = "tabletop"
    tasks: str = "single"  # suite name or task-spec path; the episode's task is task_index
    task_index: int = 0
    seed: int = TEST_SEED_START
    image_size: int = 64  # pixels
    safety: Any = False  # true: the sim Panda's limits (vla.robot.SafetyLimits); or a map of them
    watchdog_s: float | None = 0.5  # hold when no action came for this long; None: off

    def __post_init__(self) -> None:
        _check_robot(self)
        at_least(self, 0, "task_index", "seed", prefix="robot.")


@dataclass
class XArmRobotConfig(RobotConfig):
    """``robot=xarm``: UFACTORY xArm via xarm-python-sdk (pip install 'vla-stack[hardware]').

    Not yet run on a real arm: check every limit against your cell before the first run.
    """

    name: str = "xarm"
    ip: str = "192.168.1.185"
    # OpenCVCamera options per camera (device index or path, max_age_s)
    cameras: dict[str, Any] = field(
        default_factory=lambda: {
            "front": {"device": 0, "max_age_s": 0.2},
            "wrist": {"device": 1, "max_age_s": 0.2},
        }
    )
    image_size: int = 64  # pixels
    # always on; a map overrides fields of vla.robot.xarm_robot.XARM_LIMITS,
    # e.g. robot.safety.max_translation_m=0.005
    safety: Any = True
    watchdog_s: float | None = 0.2
    speed_mm_s: float = 200.0
    accel_mm_s2: float = 2000.0
    gripper_open: float = 850.0

    def __post_init__(self) -> None:
        _check_robot(self)
        at_least(self, 0, "gripper_open", prefix="robot.")
        positive(self, "speed_mm_s", "accel_mm_s2", prefix="robot.")


@dataclass
class RemoteOptions:
    """``remote.*``: how a ``policy=ws://...`` server is called."""

    timeout_s: float | None = None  # per request; None: one control period
    api_key: str | None = None
    async_queue: bool = False  # prefetch the next chunk while the current one runs
    chunk: int = 1  # actions per request

    def __post_init__(self) -> None:
        at_least(self, 1, "chunk", prefix="remote.")
        positive(self, "timeout_s", prefix="remote.")


@dataclass
class DeployConfig:
    """``vla-deploy``: one control loop for the simulator or a real arm, safety layer included."""

    robot: RobotConfig = field(default_factory=RobotConfig)  # pybullet | xarm
    planner: PlannerConfig = field(default_factory=PlannerConfig)  # none | oracle | saycan (sim)
    policy: str = "rt1"  # registered name, checkpoint folder, or ws://host:port of vla-serve
    instruction: str | None = None  # None: the sim task's instruction (required for hardware)
    control_hz: float = float(CONTROL_HZ)
    max_steps: int = 150  # planner=none: control steps before giving up
    max_skills: int | None = None  # oracle/saycan: None is the task's cap
    remote: RemoteOptions = field(default_factory=RemoteOptions)
    output_dir: str = "outputs/deploy"
    # write what the policy did as dataset episodes, one per instruction (sent actions)
    record: bool = False
    record_dir: str | None = None  # the dataset to add them to; None: output_dir/episodes

    def __post_init__(self) -> None:
        at_least(self, 1, "max_steps", "max_skills")
        positive(self, "control_hz")
