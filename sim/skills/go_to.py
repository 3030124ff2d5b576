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
            return self.terminate(world)
        act, err = move_base(world, area.dock, world.robot.grasp.held_body is not None)
        if err < DOCK_TOLERANCE:
            return self.terminate(world)
        return act

    def goal(self):
        return [Predicate("robot_at", (self.call.target,))]
