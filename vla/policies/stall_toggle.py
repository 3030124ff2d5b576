"""An inference-time gripper rule: toggle the gripper once the arm has stalled.

Measured on RT-1 co-trained with localisation scenes (README, "RT-1 policy"): in closed loop
the policy brings the hand to the named block or place and stops there (zero translation),
but its gripper token almost never flips, because the expert toggles only within 6 mm of
the grasp point and the policy stops a centimetre or two away. A skill toggles the gripper
exactly once (pick closes, place opens), so once the arm has been still for ``steps``
control steps this rule flips the gripper command and keeps it flipped until ``reset`` (the
next skill). Everything else is the policy's own action. ``steps=0`` turns it off.
"""

from __future__ import annotations

import numpy as np

from vla.tokenizer import ARM_MODE, GRIPPER_INDEX, MODE_INDEX

STILL = 0.05  # largest |translation| (normalised action units) counted as not moving


class StallToggle:
    """Flip the gripper after ``steps`` consecutive arm-mode steps without translation."""

    def __init__(self, steps: int):
        if steps < 0:
            raise ValueError(f"stall_toggle_steps must be >= 0 (0 turns it off), got {steps}")
        self.steps = steps
        self.reset()

    def reset(self) -> None:
        self._still = 0
        self._gripper: float | None = None  # the latched, flipped command

    def __call__(self, action: np.ndarray) -> np.ndarray:
        """``action`` with the rule applied (a copy when it changes anything)."""
        if self.steps == 0:
            return action
        if self._gripper is None:
            moving = np.abs(action[:3]).max() >= STILL or int(action[MODE_INDEX]) != ARM_MODE
            self._still = 0 if moving else self._still + 1
            if self._still < self.steps:
                return action
            self._gripper = -1.0 if action[GRIPPER_INDEX] > 0 else 1.0
        action = action.copy()
        action[GRIPPER_INDEX] = self._gripper
        return action
