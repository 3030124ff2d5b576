"""The robot interface (LeRobot's terms) and the registry that builds backends by name.

A robot gives observations in the contract of ARCHITECTURE.md (``{"images": {"front",
"wrist"}, "state": float32[10], "instruction": str}``) and takes 11-dim RT-1 actions. Every
action goes through the safety layer (when the backend has one; on by default for real
arms) and ``send_action`` returns the action actually sent. A watchdog thread holds the
robot when actions stop coming; ``emergency_stop`` latches until ``reset_emergency_stop``.

    with make_robot("pybullet", tasks="single") as robot:
        obs = robot.get_observation()
        sent = robot.send_action(policy.select_action(obs))
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import numpy as np

from sim.contract import ACTION_DIM, STATE_DIM
from sim.registry import Registry
from vla.robot.safety import PosePredictor, SafetyLayer, SafetyLimits, hold_action
from vla.robot.watchdog import Watchdog


class Robot(abc.ABC):
    """One robot backend.

    Args:
        safety: the limits to enforce, or None for no safety layer (only the shape and
            finiteness of actions are then checked).
        watchdog_s: hold the robot when no action came for this long; None: no watchdog.
    """

    robot_name: ClassVar[str] = ""  # set by ``register_robot``

    def __init__(self, safety: SafetyLimits | None = None, watchdog_s: float | None = None):
        self.safety = SafetyLayer(safety) if safety is not None else None
        self.watchdog = Watchdog(watchdog_s, self.hold) if watchdog_s else None
        self.holds = 0  # times the robot was told to hold (watchdog, missed deadline, stop)
        self._estopped = False
        self._lock = threading.RLock()  # send_action, hold and the watchdog thread
        self._gripper = -1.0  # last gripper command, kept while holding

    # -- backend hooks -------------------------------------------------------------------
    @abc.abstractmethod
    def _connect(self) -> None: ...

    @abc.abstractmethod
    def _disconnect(self) -> None: ...

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool:
        """Whether the backend is connected."""

    @abc.abstractmethod
    def _observe(self) -> dict[str, Any]:
        """The observation (without instruction)."""

    @abc.abstractmethod
    def _apply(self, action: np.ndarray) -> None:
        """Execute one safe 11-dim action."""

    @abc.abstractmethod
    def _ee_position(self) -> np.ndarray:
        """End-effector position (m) in the base frame, as the safety workspace uses it."""

    def _halt(self) -> None:
        """Stop all motion now (hold position, base stopped); default: apply a hold action."""
        self._apply(hold_action(self._gripper))

    def _emergency_stop(self) -> None:
        """The hardware emergency stop; default: halt."""
        self._halt()

    def pose_predictor(self) -> PosePredictor | None:
        """``predict(action)``: the grasp point (m, base frame) after the arm executes
        ``action``, for the safety layer's pose check; None: the backend has no model beyond
        the translation target (its rotations turn about the grasp point)."""
        return None

    # -- public API ----------------------------------------------------------------------
    @property
    def observation_features(self) -> dict[str, Any]:
        """Names, shapes and dtypes of the observation."""
        return {
            "images.front": {"shape": self.image_shape, "dtype": "uint8"},
            "images.wrist": {"shape": self.image_shape, "dtype": "uint8"},
            "state": {"shape": (STATE_DIM,), "dtype": "float32"},
            "instruction": {"shape": (), "dtype": "str"},
        }

    @property
    def action_features(self) -> dict[str, Any]:
        """The 11-dim RT-1 action."""
        names = ["x", "y", "z", "roll", "pitch", "yaw", "gripper", "base_x", "base_y"]
        return {
            "action": {
                "shape": (ACTION_DIM,),
                "dtype": "float32",
                "names": names + ["base_yaw", "mode"],
            }
        }

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, 3) of every camera image."""
        return (64, 64, 3)

    def connect(self) -> None:
        """Connect to the hardware (or simulator) and start the watchdog."""
        if self.is_connected:
            return
        self._connect()
        if self.watchdog is not None:
            self.watchdog.start()

    def disconnect(self) -> None:
        """Hold, stop the watchdog and disconnect; safe to call twice."""
        if self.watchdog is not None:
            self.watchdog.stop()
        if self.is_connected:
            try:
                self.hold()
            finally:
                self._disconnect()

    def __enter__(self) -> Robot:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def _require_connection(self) -> None:
        if not self.is_connected:
            raise RuntimeError(f"robot {self.robot_name!r} is not connected: call connect()")

    def get_observation(self) -> dict[str, Any]:
        """``{"images": {"front", "wrist"}, "state": float32[10], "instruction": ""}``."""
        self._require_connection()
        with self._lock:
            obs = self._observe()
        return {"instruction": "", **obs}

    def send_action(self, action: np.ndarray) -> np.ndarray:
        """Send ``action`` through the safety layer; returns the action actually sent."""
        self._require_connection()
        with self._lock:
            if self._estopped:
                return hold_action(self._gripper)  # latched: nothing moves until reset
            safe = self._make_safe(action)
            refuse_nonfinite(f"robot {self.robot_name!r} action", safe)
            self._apply(safe)
            self._gripper = float(safe[6])
        if self.watchdog is not None:
            self.watchdog.feed()
        return safe

    def _make_safe(self, action: np.ndarray) -> np.ndarray:
        if self.safety is not None:
            return self.safety.filter(action, self._ee_position(), self.pose_predictor())
        a = np.asarray(action, dtype=np.float32).reshape(-1)
        if a.shape != (ACTION_DIM,) or not np.all(np.isfinite(a)):
            raise ValueError(f"action must be {ACTION_DIM} finite numbers, got {a!r}")
        return a

    def _stopped(self) -> None:
        """The robot stopped outside the safety layer: its next action starts from rest."""
        if self.safety is not None:
            self.safety.reset()

    def hold(self) -> None:
        """Hold position and stop the base (the watchdog's and Ctrl-C's response)."""
        with self._lock:
            if self.is_connected:
                self.holds += 1
                self._halt()
                self._stopped()

    def emergency_stop(self) -> None:
        """Stop now and refuse every action until ``reset_emergency_stop``."""
        with self._lock:
            self._estopped = True
            if self.is_connected:
                self._emergency_stop()
            self._stopped()

    def reset_emergency_stop(self) -> None:
        """Release the emergency-stop latch."""
        with self._lock:
            self._estopped = False
            self._stopped()

    @property
    def estopped(self) -> bool:
        """Whether the emergency stop is latched."""
        return self._estopped

    def safety_counts(self) -> dict[str, int]:
        """Clamps per kind, plus watchdog firings and holds."""
        counts = dict(self.safety.counts) if self.safety is not None else {}
        counts["watchdog"] = self.watchdog.fired if self.watchdog is not None else 0
        counts["holds"] = self.holds
        return counts


def refuse_nonfinite(what: str, values: object) -> None:
    """Raise a one-line ValueError instead of sending a command with NaN or inf to hardware."""
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"refusing to send {what} with non-finite values: {array.tolist()}")


ROBOTS: Registry[type[Robot]] = Registry("robot")
R = TypeVar("R", bound=type[Robot])


def register_robot(name: str) -> Callable[[R], R]:
    """Class decorator: make ``make_robot(name, ...)`` build this class."""

    def decorator(cls: R) -> R:
        ROBOTS.add(name, cls)
        cls.robot_name = name
        return cls

    return decorator


def make_robot(name: str, **kwargs: Any) -> Robot:
    """Build the registered backend ``name`` (not yet connected)."""
    import vla.robot  # noqa: F401  (registers the built-in backends)

    return ROBOTS.get(name)(**kwargs)
