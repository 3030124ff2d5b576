"""``robot=xarm``: a UFACTORY xArm through its vendor SDK (``xarm-python-sdk``, imported lazily).

RT-1 action -> SDK calls (arm in position mode 0, non-blocking):

- ``[0:3]`` translation x ``step_m`` and ``[3:6]`` rotation vector x ``turn_rad`` (base frame)
  become one absolute ``set_position(x, y, z (mm), roll, pitch, yaw (rad))`` target: the
  current pose moved by the translation and rotated by the rotation vector (left-multiplied,
  as a base-frame rotation). xArm's roll/pitch/yaw compose as Rz(yaw) Ry(pitch) Rx(roll).
- ``[6]`` gripper closedness in [-1, 1] -> ``set_gripper_position``: -1 fully open
  (``gripper_open``), +1 closed (0).
- ``[7:10]`` (base) are ignored: the xArm has no base. Mode 1 moves nothing; mode 2 holds.
- hold -> ``set_state(4)`` (stop, clears queued motions) then ``set_state(0)`` (ready);
  emergency stop -> ``emergency_stop()``.

The safety layer checks the grasp point: the reported TCP moved by ``grasp_offset_m`` (tool
frame). Leave it at 0 when the controller's TCP offset is set to the fingertips; otherwise a
rotation about the TCP carries the grasp point, and the layer's pose check accounts for it.
A command with a NaN or inf in it (e.g. from a bad pose reading) is never sent: the arm
holds and ``send_action`` raises a one-line ValueError.

Nothing here has run on a real xArm (see docs/robot.md): tests drive it against a fake SDK object.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.contract import CAMERA_NAMES
from vla.robot.base import Robot, refuse_nonfinite, register_robot
from vla.robot.cameras import Camera, OpenCVCamera
from vla.robot.safety import PosePredictor, SafetyLimits, as_limits

# Conservative defaults for an xArm 6 on a table: 1 cm and ~3 degrees per 20 Hz step.
XARM_LIMITS = SafetyLimits(
    step_m=0.01,
    turn_rad=0.05,
    workspace_low=(0.2, -0.35, 0.05),
    workspace_high=(0.6, 0.35, 0.5),
    max_translation_m=0.01,
    max_rotation_rad=0.05,
    max_base_speed_mps=0.0,
    max_base_turn_rps=0.0,
    max_action_jump=0.5,
    max_gripper_closedness=0.9,
)
GRIPPER_STROKE_M = 0.085  # xArm Gripper: 850 units = 85 mm fully open


def load_xarm_sdk(ip: str) -> Any:
    """``xarm.wrapper.XArmAPI(ip)``, unconnected; one-line error if the SDK is missing."""
    try:
        from xarm.wrapper import XArmAPI
    except ImportError:
        raise ValueError(
            "robot=xarm needs the xArm SDK: pip install 'vla-stack[hardware]'"
        ) from None
    return XArmAPI(ip, is_radian=True, do_not_open=True)


def rotvec_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation vector (rad) -> 3x3 matrix."""
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.eye(3)
    k = np.asarray(rotvec, np.float64) / angle
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * kx + (1 - math.cos(angle)) * kx @ kx


def rpy_matrix(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Rz(yaw) Ry(pitch) Rx(roll)."""
    cr, sr, cp, sp = math.cos(roll), math.sin(roll), math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def matrix_rpy(m: np.ndarray) -> tuple[float, float, float]:
    """Inverse of :func:`rpy_matrix` (pitch in [-pi/2, pi/2])."""
    pitch = math.asin(-float(np.clip(m[2, 0], -1.0, 1.0)))
    return math.atan2(m[2, 1], m[2, 2]), pitch, math.atan2(m[1, 0], m[0, 0])


@register_robot("xarm")
class XArmRobot(Robot):
    """A UFACTORY xArm with its gripper and OpenCV cameras.

    Args:
        ip: the arm's controller address.
        cameras: ``{"front": Camera, "wrist": Camera}`` or ``{name: {device, ...}}``
            (OpenCVCamera keyword arguments).
        safety: True (``XARM_LIMITS``), a mapping over them, or a SafetyLimits; on by
            default, and turning it off is refused.
        watchdog_s: hold when no action came for this long.
        speed_mm_s, accel_mm_s2: Cartesian speed and acceleration of each move.
        gripper_open: the SDK's fully open gripper position.
        grasp_offset_m: the grasp point relative to the reported TCP, in the tool frame (m).
        sdk: an ``XArmAPI``-like object to use instead of the real SDK (tests).
    """

    def __init__(
        self,
        ip: str = "192.168.1.185",
        cameras: dict[str, Any] | None = None,
        safety: bool | dict | SafetyLimits = True,
        watchdog_s: float | None = 0.2,
        speed_mm_s: float = 200.0,
        accel_mm_s2: float = 2000.0,
        gripper_open: float = 850.0,
        image_size: int = 64,
        grasp_offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0),
        sdk: Any = None,
    ) -> None:
        limits = as_limits(safety, XARM_LIMITS)
        if limits is None:
            raise ValueError("robot=xarm always runs with the safety layer: drop safety=false")
        super().__init__(limits, watchdog_s)
        self.ip, self.sdk = ip, sdk
        for name, value in (("speed_mm_s", speed_mm_s), ("accel_mm_s2", accel_mm_s2)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"robot.{name} must be a finite number > 0, got {value!r}")
        if not (isinstance(gripper_open, int | float) and math.isfinite(gripper_open)):
            raise ValueError(f"robot.gripper_open must be a finite number, got {gripper_open!r}")
        self.speed, self.accel, self.gripper_open = speed_mm_s, accel_mm_s2, gripper_open
        self.size = image_size
        self.grasp_offset = np.asarray(grasp_offset_m, np.float64).reshape(-1)
        if self.grasp_offset.shape != (3,) or not np.all(np.isfinite(self.grasp_offset)):
            raise ValueError(f"robot.grasp_offset_m must be 3 finite numbers, got {grasp_offset_m}")
        self.cameras = {n: _camera(c, image_size) for n, c in (cameras or {}).items()}
        self._connected = False

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.size, self.size, 3)

    @property
    def is_connected(self) -> bool:
        return self._connected

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.sdk, name)(*args, **kwargs)
        code = result[0] if isinstance(result, tuple | list) else result
        if code not in (0, None):
            raise RuntimeError(f"xArm {name} returned error code {code}; see the xArm manual")
        return result

    def _connect(self) -> None:
        if self.sdk is None:
            self.sdk = load_xarm_sdk(self.ip)
        self.sdk.connect()
        for step in ("clean_error", "clean_warn"):
            self._call(step)
        self._call("motion_enable", enable=True)
        self._call("set_mode", 0)
        self._call("set_state", 0)
        self._call("set_gripper_enable", True)
        self._call("set_gripper_mode", 0)
        for camera in self.cameras.values():
            camera.connect()
        self._connected = True

    def _disconnect(self) -> None:
        for camera in self.cameras.values():
            camera.disconnect()
        self.sdk.disconnect()
        self._connected = False

    def _pose(self) -> tuple[np.ndarray, np.ndarray]:
        """(position (m), roll/pitch/yaw (rad)) of the tool in the base frame."""
        _, pose = self._call("get_position", is_radian=True)
        pose = np.asarray(pose, np.float64)
        return pose[:3] / 1000.0, pose[3:6]

    def _gripper_opening(self) -> float:
        _, position = self._call("get_gripper_position")
        return float(position) / self.gripper_open * GRIPPER_STROKE_M

    def _observe(self) -> dict[str, Any]:
        position, rpy = self._pose()
        state = np.concatenate([position, rpy, [self._gripper_opening()], np.zeros(3)])
        blank = np.zeros(self.image_shape, np.uint8)
        images = {n: self.cameras[n].read() if n in self.cameras else blank for n in CAMERA_NAMES}
        return {"images": images, "state": state.astype(np.float32)}

    def _ee_position(self) -> np.ndarray:
        position, rpy = self._pose()
        return position + rpy_matrix(*rpy) @ self.grasp_offset

    def _target(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(TCP position (m), orientation matrix) that ``action`` asks for, from the pose now."""
        limits = self.safety.limits
        position, rpy = self._pose()
        rotation = rotvec_matrix(action[3:6] * limits.turn_rad) @ rpy_matrix(*rpy)
        return position + action[0:3] * limits.step_m, rotation

    def pose_predictor(self) -> PosePredictor | None:
        """The grasp point after a move (rigid-body model): None with no grasp offset, where
        rotations turn about the grasp point and the translation target says it all."""
        if not np.any(self.grasp_offset):
            return None

        def predict(action: np.ndarray) -> np.ndarray:
            position, rotation = self._target(action)
            return position + rotation @ self.grasp_offset

        return predict

    def _apply(self, action: np.ndarray) -> None:
        refuse_nonfinite("an xArm command", action)
        mode = int(action[10])
        if mode == 0:
            self._move(action)
        elif mode == 2:
            self._halt()
        closed = float(np.clip(action[6], -1.0, 1.0))
        self._call("set_gripper_position", self.gripper_open * (1.0 - closed) / 2.0, wait=False)

    def _move(self, action: np.ndarray) -> None:
        position, rotation = self._target(action)
        target = position * 1000.0
        roll, pitch, yaw = matrix_rpy(rotation)
        command = [*target, roll, pitch, yaw]
        if not np.all(np.isfinite(command)):
            self._halt()
            refuse_nonfinite("xArm set_position (the arm reported a non-finite pose)", command)
        self._call(
            "set_position",
            x=float(target[0]),
            y=float(target[1]),
            z=float(target[2]),
            roll=roll,
            pitch=pitch,
            yaw=yaw,
            speed=self.speed,
            mvacc=self.accel,
            relative=False,
            wait=False,
            is_radian=True,
        )

    def _halt(self) -> None:
        self._call("set_state", 4)  # stop and drop queued motions
        self._call("set_state", 0)  # ready for the next command

    def _emergency_stop(self) -> None:
        self.sdk.emergency_stop()


def _camera(spec: Any, image_size: int) -> Camera:
    if isinstance(spec, Camera):
        return spec
    options = {"width": image_size, "height": image_size, **dict(spec)}
    return OpenCVCamera(**options)
