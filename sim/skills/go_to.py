"""``go to the <area>``: drive the base to the area's dock pose (mobile scene)."""

from __future__ import annotations

from sim.skills.base import Skill, move_base, register_skill
from sim.tasks.predicates import Predicate

DOCK_TOLERANCE = 0.004


@register_skill
class GoTo(Skill):
    name = "go_to"
    max_steps = 80

    def policy(self, world):
        area = world.scene.areas.get(self.call.target)
        if area is None:
            return self.terminate()
        close = world.robot.grasp.held_body is not None
        self.gripper_hint = 1.0 if close else -1.0
        act, err = move_base(world, area.dock, close)
        if err < DOCK_TOLERANCE:
            return self.terminate()
        return act

    def goal(self):
        return [Predicate("robot_at", (self.call.target,))]
