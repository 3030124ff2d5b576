"""The scripted expert as a policy: same API as a learned one, privileged state inside.

``select_action(observation)`` reads the skill text from ``observation["instruction"]``
and returns the next action of that skill's closed-loop expert. A new instruction starts
a new skill. This is the ceiling that learned policies are measured against.
"""

from __future__ import annotations

import numpy as np

from sim.skills import Skill, make_skill


class ScriptedExpert:
    """Expert policy bound to one env (it reads the env's simulator state)."""

    def __init__(self, env):
        self.world = env.unwrapped.world
        self.skill: Skill | None = None

    def reset(self) -> None:
        """Forget the current skill (call at every episode or skill start)."""
        self.skill = None

    def select_action(self, observation: dict) -> np.ndarray:
        """Next 11-dim action for the skill named by ``observation["instruction"]``."""
        text = observation["instruction"]
        if self.skill is None or self.skill.text != " ".join(text.lower().split()):
            self.skill = make_skill(text)
        return self.skill.act(self.world)
