"""ACT's temporal ensembling (Zhao et al. 2023, "Learning Fine-Grained Bimanual Manipulation
with Low-Cost Hardware"), for a policy that predicts a chunk of k actions every step.

Every control step the policy predicts the next k actions; the action executed at step t
averages every prediction made for step t (up to k of them, made at steps t-k+1 .. t) with
weights ``exp(-m * age_rank)``, where the oldest prediction has rank 0 (ACT's convention:
``m`` small gives older predictions about as much say as new ones, which smooths the motion
and carries a committed plan, such as closing the gripper at the block, through a step where
a single prediction would hesitate). Continuous dimensions are averaged; the gripper follows
the sign of its average; the discrete mode is a weighted vote.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from sim.contract import GRIPPER_INDEX, MODE_INDEX, N_MODES


class TemporalEnsembler:
    """Combines overlapping action chunks into one action per step.

    Args:
        chunk: k, actions per prediction.
        decay: ACT's ``m`` (>= 0); 0 weighs every prediction equally.
    """

    def __init__(self, chunk: int, decay: float = 0.01) -> None:
        if chunk < 1 or not decay >= 0:
            raise ValueError(f"ensembling needs chunk >= 1 and decay >= 0: {chunk}, {decay}")
        self.chunk, self.decay = chunk, float(decay)
        self._chunks: deque[np.ndarray] = deque(maxlen=chunk)  # newest last, each (k, 11)

    def reset(self) -> None:
        """Forget earlier predictions (a new skill starts)."""
        self._chunks.clear()

    def __call__(self, actions: np.ndarray) -> np.ndarray:
        """Add this step's prediction (k, 11) and return the action (11,) to execute now."""
        actions = np.asarray(actions, np.float32)
        if actions.shape[0] != self.chunk:
            raise ValueError(f"expected a chunk of {self.chunk} actions, got {actions.shape}")
        self._chunks.append(actions)
        n = len(self._chunks)
        # the prediction made j steps ago (j = n-1 .. 0, oldest first) says row j about now
        now = np.stack([c[n - 1 - i] for i, c in enumerate(self._chunks)])  # (n, 11), oldest first
        weights = np.exp(-self.decay * np.arange(n))
        weights /= weights.sum()
        action = (weights[:, None] * now).sum(axis=0).astype(np.float32)
        action[GRIPPER_INDEX] = 1.0 if action[GRIPPER_INDEX] > 0 else -1.0
        votes = np.bincount(now[:, MODE_INDEX].astype(int), weights=weights, minlength=N_MODES)
        action[MODE_INDEX] = float(np.argmax(votes))
        return action
