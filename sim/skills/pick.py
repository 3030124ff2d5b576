"""``pick up the <block>``: approach from above, descend, close, lift."""

from __future__ import annotations

import math

import numpy as np

from sim.bullet import p
from sim.geometry import TABLE_TOP_Z
from sim.skills.base import Skill, move_arm, register_skill
from sim.tasks.predicates import Predicate

HOVER = 0.09  # approach height above the block (m)
LIFT_Z = TABLE_TOP_Z + 0.17
CLOSE_STEPS = 2
GRASP_DROP = np.array([0.0, 0.0, -0.004])  # the grasp point, from the block's centre (m)


@register_skill
class Pick(Skill):
    name = "pick"
    above = False  # the hand has reached the block's xy at travel height

    def policy(self, world):
        body = world.bodies.get(self.call.obj)
        if body is None or self.call.obj not in world.placed:
            return self.terminate()
        pos, orn = world.client.getBasePositionAndOrientation(body)
        target, yaw = np.array(pos), _grasp_yaw(orn, world.robot.base_pose[2])
        if self.phase == 0:  # travel high (clear of towers), then approach from above
            ee = world.robot.ee_pose()[0]
            self.above = self.above or np.linalg.norm(target[:2] - ee[:2]) < 0.015
            z = target[2] + HOVER if self.above else max(LIFT_Z, ee[2])
            act, err = move_arm(world, np.array([target[0], target[1], z]), False, yaw)
            self._advance_if(self.above and err < 0.012)
        elif self.phase == 1:  # descend
            act, err = move_arm(world, target + GRASP_DROP, False, yaw)
            self._advance_if(err < 0.006)
        elif self.phase < 2 + CLOSE_STEPS:  # close
            act, _ = move_arm(world, world.robot.ee_pose()[0], True, yaw)
            self.phase += 1
        else:  # lift
            ee = world.robot.ee_pose()[0]
            act, err = move_arm(world, np.array([ee[0], ee[1], LIFT_Z]), True, yaw)
            self.gripper_hint = 1.0
            if err < 0.015:
                return self.terminate()
        return act

    def _advance_if(self, condition: bool) -> None:
        if condition:
            self.phase += 1

    def goal(self):
        return [Predicate("holding", (self.call.obj,))]

    def key_point(self, world):
        body = world.bodies.get(self.call.obj)
        if body is None or self.call.obj not in world.placed:
            return None
        return np.array(world.client.getBasePositionAndOrientation(body)[0]) + GRASP_DROP


def _grasp_yaw(orn, base_yaw: float) -> float:
    """Block yaw relative to the base, folded into [-pi/4, pi/4] (a cube's symmetry)."""
    yaw = p.getEulerFromQuaternion(orn)[2] - base_yaw
    return (yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4
