"""The physical limits the safety layer enforces, checked whole when they are made.

Every field must be a finite real number (never NaN, inf, a bool or text) with the sign its
meaning needs, and the workspace box must be 3 lows strictly below 3 highs: a limit that
could bend the layer (a NaN bound, a negative speed that reverses the base, a gripper cap
past fully closed) is a one-line ``ValueError`` at construction, before any robot moves.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sim.contract import CONTROL_HZ, MAX_BASE_STEP, MAX_BASE_TURN, MAX_STEP, MAX_TURN

# Scales turn action units into SI units: they must be > 0 (a negative one reverses motion).
SCALES = ("step_m", "turn_rad", "base_step_m", "base_turn_rad", "control_hz")
# Per-step caps of the arm and the jump limit: > 0 (0 would forbid every arm motion).
ARM_CAPS = ("max_translation_m", "max_rotation_rad", "max_action_jump")
# Base caps may be 0 (a robot without a base, like the xArm, locks it that way).
BASE_CAPS = ("max_base_speed_mps", "max_base_turn_rps")


@dataclass
class SafetyLimits:
    """Physical limits of one robot; the defaults fit the simulated Panda (sim/robot.py).

    Lengths in metres and angles in radians, in the robot base frame.
    """

    step_m: float = MAX_STEP  # metres per unit of action[0:3] (the robot's action scale)
    turn_rad: float = MAX_TURN  # radians per unit of action[3:6]
    base_step_m: float = MAX_BASE_STEP  # metres per unit of action[7:9]
    base_turn_rad: float = MAX_BASE_TURN  # radians per unit of action[9]
    control_hz: float = float(CONTROL_HZ)
    workspace_low: tuple[float, float, float] = (0.15, -0.5, 0.003)
    workspace_high: tuple[float, float, float] = (0.85, 0.5, 0.5)
    max_translation_m: float = 0.03  # grasp-point displacement per step (norm), rotation included
    max_rotation_rad: float = 0.15  # end-effector rotation per step (rotation-vector norm)
    max_base_speed_mps: float = 0.5
    max_base_turn_rps: float = 1.5
    max_action_jump: float = 0.5  # per motion dim, in action units, between consecutive steps
    max_gripper_closedness: float = 1.0  # in [-1, 1]: -1 keeps it open, 1 allows fully closed

    @classmethod
    def from_mapping(cls, values: Mapping) -> SafetyLimits:
        """From a config mapping; unknown keys are a one-line ValueError."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(str(k) for k in set(values) - known)
        if unknown:
            raise ValueError(f"unknown safety limits {unknown}; known: {sorted(known)}")
        return cls(**{k: tuple(v) if isinstance(v, list | tuple) else v for k, v in values.items()})

    def __post_init__(self) -> None:
        for names, allowed, rule in (
            (SCALES + ARM_CAPS, lambda v: v > 0, "> 0"),
            (BASE_CAPS, lambda v: v >= 0, ">= 0 (0 locks it)"),
            (("max_gripper_closedness",), lambda v: -1 <= v <= 1, "in [-1, 1]"),
        ):
            for name in names:
                value = _number(name, getattr(self, name))
                if not allowed(value):
                    raise ValueError(f"safety.{name} must be {rule}, got {value}")
                setattr(self, name, value)
        low = _box_corner("workspace_low", self.workspace_low)
        high = _box_corner("workspace_high", self.workspace_high)
        if any(lo >= hi for lo, hi in zip(low, high)):
            raise ValueError(
                f"safety workspace must be 3 lows below 3 highs, got {self.workspace_low} "
                f"and {self.workspace_high}"
            )
        self.workspace_low, self.workspace_high = low, high


def _number(name: str, value: Any) -> float:
    """``value`` as a finite float; a one-line ValueError naming ``safety.<name>`` if it is not."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"safety.{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"safety.{name} must be finite, got {value}")
    return float(value)


def _box_corner(name: str, value: Any) -> tuple[float, float, float]:
    if not isinstance(value, tuple | list) or len(value) != 3:
        raise ValueError(f"safety.{name} must be 3 numbers (x, y, z in m), got {value!r}")
    x, y, z = (_number(name, v) for v in value)
    return (x, y, z)


def as_limits(
    safety: bool | Mapping | SafetyLimits | None, default: SafetyLimits | None = None
) -> SafetyLimits | None:
    """A config value as limits: True (``default`` or the stock limits), a mapping of fields
    (over ``default``), a SafetyLimits, or False/None (no safety layer)."""
    if isinstance(safety, SafetyLimits):
        return safety
    base = default or SafetyLimits()
    if isinstance(safety, Mapping):
        return SafetyLimits.from_mapping({**asdict(base), **dict(safety)})
    if safety is None or isinstance(safety, bool):
        return base if safety else None
    raise ValueError(f"robot.safety must be true, false or a mapping of limits, got {safety!r}")
