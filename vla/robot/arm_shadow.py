"""The simulated arm again, alone in its own physics client, for forward kinematics: the
safety layer's pose prediction for ``robot=pybullet`` must never touch the simulated world."""

from __future__ import annotations

import numpy as np
import pybullet as p
from pybullet_utils import bullet_client

from sim.assets import panda_lite_urdf
from sim.geometry import TABLE_TOP_Z
from sim.robot import ARM_JOINTS, EE_LINK


class ArmShadow:
    """A fixed Panda at the origin of the real arm's base frame (table height, yaw 0)."""

    def __init__(self) -> None:
        self.client = bullet_client.BulletClient(connection_mode=p.DIRECT)
        self.origin = np.array([0.0, 0.0, TABLE_TOP_Z])
        self.body = self.client.loadURDF(panda_lite_urdf(), self.origin, useFixedBase=True)
        # As MobilePanda.set_base_pose places it (that call sets the base's inertial frame).
        self.client.resetBasePositionAndOrientation(self.body, self.origin, (0, 0, 0, 1))
        # The joints stop at the URDF's limits whatever IK asks (its limits are only a hint).
        info = [self.client.getJointInfo(self.body, j) for j in ARM_JOINTS]
        self.lower, self.upper = np.array([i[8] for i in info]), np.array([i[9] for i in info])

    def grasp_points(self, start: list[float], end: list[float], samples: int) -> np.ndarray:
        """(samples, 3) grasp points (m, base frame) along the straight joint-space path from
        ``start`` to ``end`` (7 angles each, rad), ``end`` last: a position-controlled arm
        moves roughly along it, and its middle can swing wide of both ends."""
        start = np.asarray(start, np.float64)
        end = np.clip(np.asarray(end, np.float64), self.lower, self.upper)
        points = []
        for fraction in np.arange(1, samples + 1) / samples:
            for joint, angle in zip(ARM_JOINTS, start + fraction * (end - start)):
                self.client.resetJointState(self.body, joint, angle, 0.0)
            state = self.client.getLinkState(self.body, EE_LINK, computeForwardKinematics=True)
            points.append(np.asarray(state[4], np.float64) - self.origin)
        return np.stack(points)

    def close(self) -> None:
        self.client.disconnect()
