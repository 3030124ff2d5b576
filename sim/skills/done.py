"""``done``: the plan is finished; terminates at once."""

from __future__ import annotations

from sim.skills.base import Skill, register_skill


@register_skill
class Done(Skill):
    name = "done"

    def policy(self, world):
        return self.terminate(world)

    def goal(self):
        return []
