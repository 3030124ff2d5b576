"""``stall_toggle``: a hand-written action filter that toggles the gripper once the arm has
stalled. It is not part of any policy: it wraps one (``policy_filter=stall_toggle``), opt-in,
and every figure taken with it says so beside the policy's own figure.

Why it exists: an RT-1 trained by single-step cloning from an expert that paused where it
switched phase brought the hand to the named block or place and stopped there, but its
gripper token almost never flipped (docs/experiments). A skill toggles the gripper exactly
once (pick closes, place opens), so once the arm has been still for ``steps`` control steps
this rule flips the gripper command and keeps it flipped until ``reset`` (the next skill).
Everything else is the wrapped policy's action. ``steps=0`` turns it off.

Goal gate (``goal_reach`` > 0, for a model with a goal head): the policy also stalls where
the scripted expert pauses to switch phase, e.g. above the target at carry height before
it descends to release, while the goal head (its estimate of the offset to the grasp or
release point) still says "10 cm below". At a stall whose goal estimate is farther than
``goal_reach``, the rule steps the hand towards that estimate instead of flipping, and
keeps stepping (at most ``MAX_HOMING`` steps) while the policy stays still, until the
estimate is within ``GOAL_SETTLE``; then it flips as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.contract import ARM, GRIPPER_INDEX, MAX_STEP, MODE_INDEX

STILL = 0.05  # largest |translation| (normalised action units) counted as not moving
GOAL_SETTLE = 0.015  # a goal estimate this close (m) ends homing
MAX_HOMING = 10  # most steps of homing per skill before the gripper flips anyway


class StallToggle:
    """Flip the gripper after ``steps`` consecutive arm-mode steps without translation.

    Args:
        steps: still steps before the rule acts (0 turns it off).
        goal_reach: at a stall, home towards a goal estimate farther than this (m) before
            flipping; 0 turns the goal gate off.
        step_m: metres per unit of arm translation of the robot being driven (the goal
            estimate is turned into an action with it).
    """

    def __init__(self, steps: int, goal_reach: float = 0.0, step_m: float = MAX_STEP):
        if steps < 0:
            raise ValueError(f"stall_toggle_steps must be >= 0 (0 turns it off), got {steps}")
        if not goal_reach >= 0:
            raise ValueError(f"stall_goal_reach must be >= 0 m (0 turns it off), got {goal_reach}")
        if not step_m > 0:
            raise ValueError(f"step_m must be > 0 (the robot's metres per action unit): {step_m}")
        self.steps = steps
        self.goal_reach = float(goal_reach)
        self.step_m = float(step_m)
        self.reset()

    def reset(self) -> None:
        self._still = 0
        self._homing = 0  # steps spent homing towards the goal estimate this skill
        self._gripper: float | None = None  # the latched, flipped command

    @property
    def needs_goal(self) -> bool:
        """Whether ``__call__`` uses a goal estimate (the goal gate is on)."""
        return self.steps > 0 and self.goal_reach > 0

    def __call__(self, action: np.ndarray, goal: np.ndarray | None = None) -> np.ndarray:
        """``action`` with the rule applied (a copy when it changes anything).

        ``goal``: the goal head's offset (m, base frame) from the hand to the point where
        the gripper should flip; used only by the goal gate.
        """
        if self.steps == 0:
            return action
        if self._gripper is None:
            moving = np.abs(action[:3]).max() >= STILL or int(action[MODE_INDEX]) != ARM
            self._still = 0 if moving else self._still + 1
            if moving:
                self._homing = 0
            if self._still < self.steps:
                return action
            if self._home(goal):
                action = action.copy()
                action[:3] = np.clip(np.asarray(goal) / self.step_m, -1.0, 1.0)
                return action
            self._gripper = -1.0 if action[GRIPPER_INDEX] > 0 else 1.0
        action = action.copy()
        action[GRIPPER_INDEX] = self._gripper
        return action

    def _home(self, goal: np.ndarray | None) -> bool:
        """Whether to step towards ``goal`` now instead of flipping (counts the step)."""
        if goal is None or self.goal_reach <= 0 or self._homing >= MAX_HOMING:
            return False
        distance = float(np.linalg.norm(goal))
        if distance < (GOAL_SETTLE if self._homing else self.goal_reach):
            return False
        self._homing += 1
        return True


class StallToggleFilter:
    """Any policy with :class:`StallToggle` applied to its actions (the Policy API:
    ``reset``, ``select_action``). The goal gate reads the policy's ``last_goal`` (RT-1's
    goal head), so ``goal_reach`` > 0 needs a policy that has one."""

    def __init__(
        self, policy: Any, steps: int = 3, goal_reach: float = 0.06, step_m: float = MAX_STEP
    ) -> None:
        self.policy = policy
        self.rule = StallToggle(steps, goal_reach, step_m)
        if self.rule.needs_goal and not getattr(getattr(policy, "config", None), "goal_head", 0):
            raise ValueError(
                "stall_toggle's goal gate (goal_reach > 0) needs a policy with a goal head; "
                "pass goal_reach=0"
            )

    def reset(self) -> None:
        self.policy.reset()
        self.rule.reset()

    def select_action(self, observation: dict[str, Any]) -> np.ndarray:
        action = np.asarray(self.policy.select_action(observation), np.float32)
        return self.rule(action, getattr(self.policy, "last_goal", None))

    def __getattr__(self, name: str) -> Any:  # image_size, model_card, ... of the policy
        return getattr(self.policy, name)
