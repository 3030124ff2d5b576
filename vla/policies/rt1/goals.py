"""Where a recorded skill is heading: the hand's position when it grasps or releases.

An auxiliary target for the RT-1 goal head (``RT1Config.goal_head``). Behaviour cloning
alone lets a policy read its next step off the way the hand has been moving (the copycat
shortcut); asking it also for the *offset* to the point where the gripper will close (a
pick) or open (a place) can only be answered by finding the named object or place in the
images, because the offset's length is not in the motion so far.

The key step of an episode is the first step whose gripper command has the other sign
than the first step's (pick: open -> close; place: closed -> open). Skills without one
(``go_to``, or a recording cut short) have no goal and are masked out of the loss.
"""

from __future__ import annotations

import numpy as np

from sim.contract import GRIPPER_INDEX

EE_POS = slice(0, 3)  # end-effector position (base frame, m) in the 10-d state
GOAL_SCALE = 10.0  # the goal head predicts offsets in decimetres (order 1)


def key_step(action: np.ndarray) -> int | None:
    """The first step whose gripper command flips sign from step 0's, or None."""
    signs = np.sign(action[:, GRIPPER_INDEX])
    if signs[0] == 0:
        return None
    flips = np.flatnonzero(signs == -signs[0])
    return int(flips[0]) if flips.size else None


def goal_offsets(state: np.ndarray, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per step, the hand's offset (m, base frame) to its key-step position, and a mask.

    Returns ``(offsets (T, 3) float32, valid (T,) bool)``: valid for steps up to and
    including the key step; zero offsets where not valid.
    """
    steps = len(action)
    offsets = np.zeros((steps, 3), np.float32)
    valid = np.zeros(steps, bool)
    key = key_step(action)
    if key is not None:
        offsets[: key + 1] = state[key, EE_POS] - state[: key + 1, EE_POS]
        valid[: key + 1] = True
    return offsets, valid
