"""Record what drives a robot, one dataset episode per instruction (``vla-deploy
record=true``, ``vla-record teleop=keyboard``).

:class:`RecordingPolicy` wraps the policy (or teleoperator) that a control loop runs:
``sim.rollout.run_policy`` calls ``reset`` at the start of every instruction (a skill, with a
planner) and ``select_action`` once a step, so each instruction becomes one episode of the
``vla-episodes`` format: the observation the policy saw, and as its action the one the
safety layer sent to the robot (``ControlLoop.sent``; the final terminate step, which is not
sent, keeps the commanded action). An episode is written (crash-safe, like every episode)
when the next instruction starts or :meth:`RecordingPolicy.finish` is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vla.data.episode_schema import EpisodeBuffer
from vla.data.episode_store import EpisodeStore


class RecordingPolicy:
    """``policy`` with every step recorded into ``store``.

    Args:
        policy: anything with ``reset`` and ``select_action`` (a policy, a teleoperator).
        loop: the :class:`vla.robot.control_loop.ControlLoop` it drives (its ``sent``).
        store: a writable dataset with the robot's cameras and image size.
        key_prefix: episode keys are ``<key_prefix>/<n>``, n counting on from the store's.
        fields: ``add_episode`` fields of every episode (split, family, scene, seed, meta).
        success: called when an episode ends: whether it succeeded (the sim's goal check).
    """

    def __init__(
        self,
        policy: Any,
        loop: Any,
        store: EpisodeStore,
        key_prefix: str,
        fields: dict[str, Any] | None = None,
        success: Callable[[], bool] = lambda: True,
    ) -> None:
        self.policy, self.loop, self.store = policy, loop, store
        self.key_prefix, self.fields, self.success = key_prefix, dict(fields or {}), success
        self.buffer = EpisodeBuffer(store.cameras)
        self.instruction: str | None = None
        self.first_sent = 0
        self.episode_ids: list[int] = []

    def reset(self) -> None:
        self.finish()
        self.policy.reset()

    def select_action(self, observation: dict[str, Any]) -> np.ndarray:
        if not len(self.buffer):
            self.instruction, self.first_sent = observation["instruction"], len(self.loop.sent)
        action = np.asarray(self.policy.select_action(observation), np.float32)
        self.buffer.add(observation["images"], observation["state"], action)
        return action

    def finish(self) -> int | None:
        """Write the episode recorded so far (if any); returns its id."""
        if not len(self.buffer):
            return None
        arrays = self.buffer.to_arrays()
        sent = self.loop.sent[self.first_sent :]
        if sent:
            arrays["action"][: len(sent)] = np.stack(sent)[: len(arrays["action"])]
        self.buffer.clear()
        n = sum(r["key"].startswith(f"{self.key_prefix}/") for r in self.store.episodes())
        fields = {"split": "train", "task": str(self.instruction), **self.fields}
        episode_id = self.store.add_episode(
            arrays,
            key=f"{self.key_prefix}/{n}",
            instruction=str(self.instruction),
            success=bool(self.success()),
            **fields,
        )
        self.episode_ids.append(episode_id)
        return episode_id
