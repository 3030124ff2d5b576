"""The privileged "Can": 1 if the symbolic executor says a skill is possible now, else 0.

It reads the simulator's true state (object poses, what the gripper holds, where the base
is) and checks the skill's preconditions with :func:`sim.tasks.apply_skill` (empty hand and
a clear block for pick, the object held and a free target for place, the robot at the right
area in the mobile scene). An upper bound for ablations; a real robot has no such oracle.
"""

from __future__ import annotations

from typing import Any

from planners.affordance import register_affordance
from sim.tasks import apply_skill


class OracleAffordance:
    """``affordance(observation, skill)`` from ``env``'s privileged state."""

    def __init__(self, env: Any) -> None:
        if env is None or not hasattr(env.unwrapped, "world"):
            raise ValueError("affordance=oracle needs a simulator env (it reads true state)")
        self.env = env

    def __call__(self, observation: Any, skill: str) -> float:
        try:
            apply_skill(self.env.unwrapped.world.snapshot(), skill)
        except ValueError:
            return 0.0
        return 1.0


@register_affordance("oracle")
def oracle_affordance(env: Any = None) -> OracleAffordance:
    """Factory for ``make_affordance("oracle", env=env)``."""
    return OracleAffordance(env)
