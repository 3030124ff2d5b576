"""The safety layer between a policy and a robot: every action is clamped before it is sent.

Limits (``SafetyLimits``, validated whole at construction) are applied in this order, each
clamp counted (``SafetyLayer.counts``) and logged:

1. ``nonfinite``: an action (or end-effector reading) with NaN/inf, of the wrong shape or not
   numbers at all, is rejected as a whole and replaced by the hold action (no motion, gripper
   unchanged).
2. ``range``: continuous dims clipped to [-1, 1]; ``mode``: dim 10 rounded into {0, 1, 2}.
3. ``jump``: each motion dim (0-5, 7-9) may change by at most ``max_action_jump`` from the
   previous action sent, except that slowing towards zero is always allowed (a stop must
   take one step). A hold, watchdog firing or emergency stop resets the reference to rest.
4. ``translation`` / ``rotation``: per-step end-effector translation (m) and rotation (rad)
   norms, i.e. the largest relative target.
5. ``base_speed`` / ``base_turn``: base speed (m/s) and turn rate (rad/s) at the control rate.
6. ``workspace``: the translation target (current grasp point + translation) kept inside a
   box in the robot base frame; a hand already outside is pulled back within the jump and
   step limits.
7. ``gripper``: gripper closedness capped at ``max_gripper_closedness`` (the force limit:
   a position-controlled gripper squeezes harder the further its command is past contact).
8. ``pose``: with a backend's pose predictor, the grasp point after the step, rotation
   included (a rotation about a point other than the grasp point, or an IK solution that
   swings the arm, carries it), must stay in the box and within ``max_translation_m`` of
   where it is; the rotation, then the translation, is shrunk until it does, else the arm
   holds.
9. A final finiteness check: anything non-finite becomes the hold action.

Every stage only clips or scales towards zero, so no stage reverses a motion the policy
asked for, except the pull-back into the box.

Action layout (RT-1, ARCHITECTURE.md): [0:3] translation x ``step_m``, [3:6] rotation
vector x ``turn_rad``, [6] gripper, [7:9] base translation x ``base_step_m``, [9] base yaw
x ``base_turn_rad``, [10] mode.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.contract import ACTION_DIM, GRIPPER_INDEX
from vla.robot.limits import SafetyLimits, as_limits

log = logging.getLogger(__name__)
MOTION_DIMS = np.array([0, 1, 2, 3, 4, 5, 7, 8, 9])


__all__ = ["SafetyLayer", "SafetyLimits", "as_limits", "check_action", "hold_action"]

# predict(11-dim action) -> grasp point(s) in the base frame (m): (3,), or (k, 3) along the
# step with the last where it ends

PosePredictor = Callable[[np.ndarray], np.ndarray]
# (rotation, translation) factors tried in turn until the predicted pose is safe.
POSE_SCALES = ((1.0, 1.0), (0.5, 1.0), (0.25, 1.0), (0.0, 1.0), (0.0, 0.5), (0.0, 0.25))
POSE_TOL_M = 1e-3  # slack on the predicted displacement: IK converges to about 1e-5 m


def hold_action(gripper: float = -1.0) -> np.ndarray:
    """The action that moves nothing: zero deltas, arm mode, gripper kept at ``gripper``."""
    action = np.zeros(ACTION_DIM, np.float32)
    action[GRIPPER_INDEX] = gripper
    return action


@dataclass
class SafetyLayer:
    """Clamps actions to ``limits``; keeps the previous action for the jump limit."""

    limits: SafetyLimits = field(default_factory=SafetyLimits)
    counts: Counter = field(default_factory=Counter)
    previous: np.ndarray = field(default_factory=hold_action)

    def reset(self) -> None:
        """Forget the previous action: at episode start, and whenever the robot was stopped
        outside the layer (hold, watchdog, emergency stop), so the next action's jump limit
        starts from rest. Counts are kept."""
        self.previous = hold_action(float(self.previous[6]))

    def _clamp(self, kind: str, detail: str) -> None:
        self.counts[kind] += 1
        level = logging.WARNING if self.counts[kind] == 1 else logging.DEBUG
        log.log(level, "safety clamp %s (#%d): %s", kind, self.counts[kind], detail)

    def filter(
        self, action: object, ee_position: object, predict: PosePredictor | None = None
    ) -> np.ndarray:
        """The safe version of ``action`` given the grasp point at ``ee_position`` (m).

        ``predict(action)`` (optional, from the robot backend) gives the grasp point (m, base
        frame) after the arm executes ``action``, or (k, 3) points along the step: with it the
        box and the displacement limit cover what a rotation (or the arm's IK) does to the
        grasp point, not only the translation target.
        """
        try:
            a = np.array(action, dtype=np.float64, copy=True).reshape(-1)
            ee = np.array(ee_position, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            self._clamp("nonfinite", f"action {type(action).__name__} is not numbers")
            return self._hold()
        if a.shape != (ACTION_DIM,) or not np.all(np.isfinite(a)):
            self._clamp("nonfinite", f"rejected action {np.array2string(a, precision=3)}")
            return self._hold()
        if ee.shape != (3,) or not np.all(np.isfinite(ee)):
            self._clamp("nonfinite", f"end-effector reading {ee} is not 3 finite numbers")
            return self._hold()
        self._range(a)
        self._jump(a)
        lim = self.limits
        self._norm(a, slice(0, 3), lim.max_translation_m / lim.step_m, "translation")
        self._norm(a, slice(3, 6), lim.max_rotation_rad / lim.turn_rad, "rotation")
        base_step = lim.max_base_speed_mps / lim.control_hz
        self._norm(a, slice(7, 9), base_step / lim.base_step_m, "base_speed")
        base_turn = lim.max_base_turn_rps / lim.control_hz
        self._norm(a, slice(9, 10), base_turn / lim.base_turn_rad, "base_turn")
        self._workspace(a, ee)
        if a[6] > lim.max_gripper_closedness:
            self._clamp("gripper", f"closedness {a[6]:.3f}")
            a[6] = lim.max_gripper_closedness
        if predict is not None and a[10] == 0 and np.any(a[0:6] != 0):
            self._pose(a, ee, predict)
        if not np.all(np.isfinite(a)):  # cannot happen with valid limits; never send it anyway
            self._clamp("nonfinite", "the clamped action is not finite")
            return self._hold()
        return self._accept(a)

    def _hold(self) -> np.ndarray:
        return self._accept(hold_action(float(self.previous[6])))

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

    def _jump_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per motion dim, the interval the next action may take (it always contains 0)."""
        prev = self.previous[MOTION_DIMS].astype(np.float64)
        jump = self.limits.max_action_jump
        return np.minimum(prev - jump, 0.0), np.maximum(prev + jump, 0.0)

    def _jump(self, a: np.ndarray) -> None:
        low, high = self._jump_bounds()  # towards (or through to) zero is always allowed
        motion = a[MOTION_DIMS]
        clipped = np.clip(motion, low, high)
        if np.any(clipped != motion):
            jump = self.limits.max_action_jump
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
            # From outside the box the way back may be longer than one step, and turn the
            # translation round: keep the range, jump and step limits on the way back.
            jump_low, jump_high = self._jump_bounds()
            a[0:3] = np.clip(a[0:3], np.maximum(jump_low[:3], -1), np.minimum(jump_high[:3], 1))
            self._norm(a, slice(0, 3), self.limits.max_translation_m / step, "translation")

    def _pose(self, a: np.ndarray, ee: np.ndarray, predict: PosePredictor) -> None:
        """Shrink the rotation, then the translation, until the predicted grasp point stays
        in the box and within one step's displacement; no arm motion if nothing does.

        Scaling a motion towards zero keeps every earlier limit (each bound contains zero).
        """
        for turn, move in POSE_SCALES:
            trial = a.copy()
            trial[3:6] *= turn
            trial[0:3] *= move
            problem = self.pose_problem(predict(trial.astype(np.float32)), ee)
            if problem is None:
                break
            if (turn, move) == POSE_SCALES[0]:
                self._clamp("pose", problem)
        else:
            trial[0:6] = 0.0
        a[0:6] = trial[0:6]

    def pose_problem(self, predicted: object, ee: np.ndarray) -> str | None:
        """Why the predicted grasp point(s) are unsafe (None when they are safe)."""
        points = np.asarray(predicted, np.float64).reshape(-1, 3)
        if points.size == 0 or not np.all(np.isfinite(points)):
            return f"predicted grasp points {points.tolist()} are not finite"
        for p in points:
            if not inside_or_closer(p, ee, self.limits):
                return f"predicted grasp point {np.round(p, 3)} leaves the box"
        moved = float(np.max(np.linalg.norm(points - ee, axis=1)))
        if moved > self.limits.max_translation_m + POSE_TOL_M:
            return f"predicted grasp point moves {moved:.3f} m in one step"
        return None


def inside_or_closer(
    point: np.ndarray, ee: np.ndarray, limits: SafetyLimits, tol: float = 1e-6
) -> bool:
    """Whether ``point`` is inside the box, or (for a hand already outside at ``ee``) no further
    out than ``ee`` along any axis."""
    low = np.minimum(np.asarray(limits.workspace_low), ee) - tol
    high = np.maximum(np.asarray(limits.workspace_high), ee) + tol
    return bool(np.all(point >= low) and np.all(point <= high))


def check_action(
    action: np.ndarray,
    previous: np.ndarray,
    ee: np.ndarray,
    limits: SafetyLimits,
    tol: float = 1e-5,
    *,
    requested: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
) -> list[str]:
    """The limits ``action`` breaks (empty when it is safe); used by tests and the fuzz bench.

    Args:
        action, previous: the action sent and the one sent before it (a hold action after the
            robot was held or emergency-stopped).
        ee: the grasp point (m) when ``action`` was filtered; from outside the box the target
            may only come closer along every axis (a pull-back).
        requested: the action asked for; a safe action never reverses a motion it asked for,
            except translation axes along which the hand is outside the box (the pull-back).
        predicted: the backend's grasp point(s) over the step: inside the box (or closer)
            and at most ``max_translation_m`` from ``ee``.
    """
    a, prev = np.asarray(action, np.float64), np.asarray(previous, np.float64)
    ee = np.asarray(ee, np.float64)
    if a.shape != (ACTION_DIM,) or not np.all(np.isfinite(a)):
        return ["nonfinite"]
    broken = []
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
    if not inside_or_closer(ee + a[0:3] * limits.step_m, ee, limits, tol):
        broken.append("workspace")
    if a[6] > limits.max_gripper_closedness + tol:
        broken.append("gripper")
    if requested is not None and _reverses(a, np.asarray(requested, np.float64), ee, limits):
        broken.append("reversed")
    if predicted is not None and a[10] == 0:
        points = np.asarray(predicted, np.float64).reshape(-1, 3)
        moved = np.max(np.linalg.norm(points - ee, axis=1))
        inside = all(inside_or_closer(p, ee, limits, tol) for p in points)
        if moved > limits.max_translation_m + POSE_TOL_M or not inside:
            broken.append("pose")
    return broken


def _reverses(a: np.ndarray, asked: np.ndarray, ee: np.ndarray, limits: SafetyLimits) -> bool:
    if asked.shape != (ACTION_DIM,):
        return False
    outside = (ee < np.asarray(limits.workspace_low)) | (ee > np.asarray(limits.workspace_high))
    flipped = np.zeros(ACTION_DIM, bool)
    with np.errstate(invalid="ignore"):  # NaN asks for nothing; comparisons are then False
        flipped[MOTION_DIMS] = a[MOTION_DIMS] * asked[MOTION_DIMS] < 0
    flipped[0:3] &= ~outside
    return bool(np.any(flipped))
