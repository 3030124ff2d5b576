"""Robot hardware interface: backends (registry), cameras, safety layer and watchdog.

Importing this registers the built-in backends: ``pybullet`` (the simulator) and ``xarm``
(UFACTORY xArm; its SDK is imported only when it connects).
"""

from vla.robot.base import ROBOTS, Robot, make_robot, register_robot
from vla.robot.cameras import Camera, OpenCVCamera, SimCamera, StaleFrameError
from vla.robot.pybullet_robot import PyBulletRobot
from vla.robot.safety import SafetyLayer, SafetyLimits, check_action, hold_action
from vla.robot.watchdog import Watchdog
from vla.robot.xarm_robot import XArmRobot

__all__ = [
    "ROBOTS",
    "Camera",
    "OpenCVCamera",
    "PyBulletRobot",
    "Robot",
    "SafetyLayer",
    "SafetyLimits",
    "SimCamera",
    "StaleFrameError",
    "Watchdog",
    "XArmRobot",
    "check_action",
    "hold_action",
    "make_robot",
    "register_robot",
]
