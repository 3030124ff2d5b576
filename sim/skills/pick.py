"""``pick up the <block>``: come down on the block from above, close, lift.

State-derived (see :mod:`sim.skills.base`): holding the block, lift it and stop at
``LIFT_Z``; otherwise bring the open hand down the funnel to the grasp point and close
there. The gripper closes and the lift starts in the same action, so the hand never
pauses; a close that caught nothing leaves the gripper closed on nothing, which the next
state reads as "open and come down again".
"""

from __future__ import annotations

import math

import numpy as np

from sim.bullet import p
from sim.geometry import TABLE_TOP_Z
from sim.skills.base import Skill, approach, move_arm, register_skill
from sim.tasks.predicates import Predicate

LIFT_Z = TABLE_TOP_Z + 0.17
# The hand closes within this horizontal / vertical distance of the grasp point (m): well
# inside the grasp zone (sim.robot.GRASP_ZONE), and loose enough vertically for a hand that
# fingers of the neighbouring blocks in a full bowl stop a centimetre above it.
GRASP_TOLERANCE = (0.01, 0.02)
LIFT_TOLERANCE = 0.015  # the lift ends this close to LIFT_Z (m)
GRASP_DROP = np.array([0.0, 0.0, -0.004])  # the grasp point, from the block's centre (m)


@register_skill
class Pick(Skill):
    name = "pick"

    def policy(self, world):
        body = world.bodies.get(self.call.obj)
        held = world.robot.grasp.held_body
        if body is None or self.call.obj not in world.placed:
            return self.terminate(world)
        ee = world.robot.ee_pose()[0]
        if held == body:  # lift
            if ee[2] > LIFT_Z - LIFT_TOLERANCE:
                return self.terminate(world)
            return move_arm(world, np.array([ee[0], ee[1], LIFT_Z]), True)[0]
        if held is not None:  # holding another block: this pick cannot start
            return self.terminate(world)
        pos, orn = world.client.getBasePositionAndOrientation(body)
        grasp, yaw = np.array(pos) + GRASP_DROP, _grasp_yaw(orn, world.robot.base_pose[2])
        act, _ = approach(world, grasp, max(LIFT_Z, ee[2]), False, yaw)
        off = np.abs(grasp - ee)
        if off[:2].max() < GRASP_TOLERANCE[0] and off[2] < GRASP_TOLERANCE[1]:
            # close on the block and start the lift at once
            act, _ = move_arm(world, np.array([ee[0], ee[1], LIFT_Z]), True, yaw)
        return act

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
