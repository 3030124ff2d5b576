"""The safety layer between a policy and a robot: every action is clamped before it is sent.

Limits are checked in this order, each clamp counted (``SafetyLayer.counts``) and logged:

1. ``nonfinite``: an action (or end-effector reading) with NaN/inf, or of the wrong shape,
   is rejected as a whole and replaced by the hold action (no motion, gripper unchanged).
2. ``range``: continuous dims clipped to [-1, 1]; ``mode``: dim 10 rounded into {0, 1, 2}.
3. ``jump``: each motion dim (0-5, 7-9) may change by at most ``max_action_jump`` from the
   previous action sent, except that slowing towards zero is always allowed (a stop must
   take one step).
4. ``translation`` / ``rotation``: per-step end-effector translation (m) and rotation (rad)
   norms, i.e. the largest relative target.
5. ``base_speed`` / ``base_turn``: base speed (m/s) and turn rate (rad/s) at the control rate.
6. ``workspace``: the end-effector target (current position + translation) kept inside a
   box in the robot base frame.
7. ``gripper``: gripper closedness capped at ``max_gripper_closedness`` (the force limit:
   a position-controlled gripper squeezes harder the further its command is past contact).

Action layout (RT-1, ARCHITECTURE.md): [0:3] translation x ``step_m``, [3:6] rotation
vector x ``turn_rad``, [6] gripper, [7:9] base translation x ``base_step_m``, [9] base yaw
x ``base_turn_rad``, [10] mode.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from sim.contract import (
    ACTION_DIM,
    CONTROL_HZ,
    GRIPPER_INDEX,
    MAX_BASE_STEP,
    MAX_BASE_TURN,
    MAX_STEP,
    MAX_TURN,
)

log = logging.getLogger(__name__)
MOTION_DIMS = np.array([0, 1, 2, 3, 4, 5, 7, 8, 9])


def hold_action(gripper: float = -1.0) -> np.ndarray:
    """The action that moves nothing: zero deltas, arm mode, gripper kept at ``gripper``."""
    action = np.zeros(ACTION_DIM, np.float32)
    action[GRIPPER_INDEX] = gripper
    return action


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
    max_translation_m: float = 0.03  # end-effector translation per step (norm)
    max_rotation_rad: float = 0.15  # end-effector rotation per step (rotation-vector norm)
    max_base_speed_mps: float = 0.5
    max_base_turn_rps: float = 1.5
    max_action_jump: float = 0.5  # per motion dim, in action units, between consecutive steps
    max_gripper_closedness: float = 1.0

    @classmethod
    def from_mapping(cls, values: dict) -> SafetyLimits:
        """From a config mapping; unknown keys are a one-line ValueError."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown safety limits {unknown}; known: {sorted(known)}")
        return cls(**{k: tuple(v) if isinstance(v, list | tuple) else v for k, v in values.items()})

    def __post_init__(self) -> None:
        low, high = np.asarray(self.workspace_low), np.asarray(self.workspace_high)
        if low.shape != (3,) or high.shape != (3,) or np.any(low >= high):
            raise ValueError(
                f"safety workspace must be 3 lows below 3 highs, got {self.workspace_low} "
                f"and {self.workspace_high}"
            )
        positive = ("step_m", "turn_rad", "base_step_m", "base_turn_rad", "control_hz")
        for name in positive + ("max_translation_m", "max_rotation_rad", "max_action_jump"):
            if not getattr(self, name) > 0:
                raise ValueError(f"safety.{name} must be > 0, got {getattr(self, name)}")


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
    return base if safety else None


@dataclass
class SafetyLayer:
    """Clamps actions to ``limits``; keeps the previous action for the jump limit."""

    limits: SafetyLimits = field(default_factory=SafetyLimits)
    counts: Counter = field(default_factory=Counter)
    previous: np.ndarray = field(default_factory=hold_action)

    def reset(self) -> None:
        """Forget the previous action (at episode start); counts are kept."""
        self.previous = hold_action(float(self.previous[6]))

    def _clamp(self, kind: str, detail: str) -> None:
        self.counts[kind] += 1
        level = logging.WARNING if self.counts[kind] == 1 else logging.DEBUG
        log.log(level, "safety clamp %s (#%d): %s", kind, self.counts[kind], detail)

    def filter(self, action: object, ee_position: object) -> np.ndarray:
        """The safe version of ``action`` given the end effector at ``ee_position`` (m)."""
        a = np.array(action, dtype=np.float64, copy=True).reshape(-1)
        ee = np.asarray(ee_position, dtype=np.float64).reshape(-1)
        if a.shape != (ACTION_DIM,) or not np.all(np.isfinite(a)):
            self._clamp("nonfinite", f"rejected action {np.array2string(a, precision=3)}")
            return self._accept(hold_action(float(self.previous[6])))
        if ee.shape != (3,) or not np.all(np.isfinite(ee)):
            self._clamp("nonfinite", f"end-effector reading {ee} is not 3 finite numbers")
            return self._accept(hold_action(float(self.previous[6])))
        self._range(a)
        self._jump(a)
        self._norm(
            a, slice(0, 3), self.limits.max_translation_m / self.limits.step_m, "translation"
        )
        self._norm(a, slice(3, 6), self.limits.max_rotation_rad / self.limits.turn_rad, "rotation")
        base_step = self.limits.max_base_speed_mps / self.limits.control_hz
        self._norm(a, slice(7, 9), base_step / self.limits.base_step_m, "base_speed")
        base_turn = self.limits.max_base_turn_rps / self.limits.control_hz
        self._norm(a, slice(9, 10), base_turn / self.limits.base_turn_rad, "base_turn")
        self._workspace(a, ee)
        if a[6] > self.limits.max_gripper_closedness:
            self._clamp("gripper", f"closedness {a[6]:.3f}")
            a[6] = self.limits.max_gripper_closedness
        return self._accept(a)

    def _accept(self, action: np.ndarray) -> np.ndarray:
        safe = action.astype(np.float32)
        self.previous = safe.copy()
        return safe

    def _range(self, a: np.ndarray) -> None:
        if np.any(np.abs(a[:10]) > 1.0):
            self._clamp("range", f"dims outside [-1, 1]: {np.flatnonzero(np.abs(a[:10]) > 1)}")
            a[:10] = np.clip(a[:10], -1.0, 1.0)
        mode = float(np.clip(np.rint(a[10]), 0, 2))
        if mode != a[10]:
            self._clamp("mode", f"mode {a[10]:.3g} -> {mode:.0f}")
            a[10] = mode

    def _jump(self, a: np.ndarray) -> None:
        prev = self.previous[MOTION_DIMS].astype(np.float64)
        jump = self.limits.max_action_jump
        low = np.minimum(prev - jump, 0.0)  # towards (or through to) zero is always allowed
        high = np.maximum(prev + jump, 0.0)
        motion = a[MOTION_DIMS]
        clipped = np.clip(motion, low, high)
        if np.any(clipped != motion):
            self._clamp("jump", f"dims {MOTION_DIMS[clipped != motion]} jumped more than {jump}")
            a[MOTION_DIMS] = clipped

    def _norm(self, a: np.ndarray, dims: slice, limit: float, kind: str) -> None:
        norm = float(np.linalg.norm(a[dims]))
        if norm > limit:
            self._clamp(kind, f"norm {norm:.3f} > {limit:.3f} action units")
            a[dims] *= limit / norm

    def _workspace(self, a: np.ndarray, ee: np.ndarray) -> None:
        step = self.limits.step_m
        target = ee + a[0:3] * step
        low, high = np.asarray(self.limits.workspace_low), np.asarray(self.limits.workspace_high)
        inside = np.clip(target, low, high)
        if np.any(inside != target):
            self._clamp("workspace", f"target {np.round(target, 3)} outside the box")
            a[0:3] = (inside - ee) / step
            # From outside the box the way back may be longer than one step: keep the step limit.
            norm = float(np.linalg.norm(a[0:3]))
            limit = self.limits.max_translation_m / step
            if norm > limit:
                a[0:3] *= limit / norm


def check_action(
    action: np.ndarray,
    previous: np.ndarray,
    ee: np.ndarray,
    limits: SafetyLimits,
    tol: float = 1e-5,
) -> list[str]:
    """The limits ``action`` breaks (empty when it is safe); used by tests and the fuzz bench.

    Assumes ``ee`` starts inside the workspace box (the layer keeps it there).
    """
    broken = []
    a, prev = np.asarray(action, np.float64), np.asarray(previous, np.float64)
    if a.shape != (ACTION_DIM,) or not np.all(np.isfinite(a)):
        return ["nonfinite"]
    if np.any(np.abs(a[:10]) > 1 + tol) or a[10] not in (0.0, 1.0, 2.0):
        broken.append("range")
    j = limits.max_action_jump
    m, p = a[MOTION_DIMS], prev[MOTION_DIMS]
    if np.any(m > np.maximum(p + j, 0) + tol) or np.any(m < np.minimum(p - j, 0) - tol):
        broken.append("jump")
    if np.linalg.norm(a[0:3]) * limits.step_m > limits.max_translation_m + tol:
        broken.append("translation")
    if np.linalg.norm(a[3:6]) * limits.turn_rad > limits.max_rotation_rad + tol:
        broken.append("rotation")
    if np.linalg.norm(a[7:9]) * limits.base_step_m * limits.control_hz > (
        limits.max_base_speed_mps + tol
    ):
        broken.append("base_speed")
    if abs(a[9]) * limits.base_turn_rad * limits.control_hz > limits.max_base_turn_rps + tol:
        broken.append("base_turn")
    target = np.asarray(ee, np.float64) + a[0:3] * limits.step_m
    if np.any(target < np.asarray(limits.workspace_low) - tol) or np.any(
        target > np.asarray(limits.workspace_high) + tol
    ):
        broken.append("workspace")
    if a[6] > limits.max_gripper_closedness + tol:
        broken.append("gripper")
    return broken
