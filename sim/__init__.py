"""PyBullet worlds as gymnasium envs, task specs, and scripted expert skills.

``import sim`` registers one gymnasium id per scene: ``sim/Tabletop-v0`` and
``sim/Mobile-v0`` (kwargs as :class:`sim.env.VLAEnv`).
"""

from __future__ import annotations

import gymnasium as gym

from sim.seeds import TEST_SEED_START, TRAIN_SEED_START, VAL_SEED_START, seed_range

ENV_IDS = {"tabletop": "sim/Tabletop-v0", "mobile": "sim/Mobile-v0"}
MAX_EPISODE_STEPS = {"tabletop": 600, "mobile": 900}

for _scene, _env_id in ENV_IDS.items():
    if _env_id not in gym.registry:
        gym.register(
            id=_env_id,
            entry_point="sim.env:VLAEnv",
            kwargs={"scene": _scene},
            max_episode_steps=MAX_EPISODE_STEPS[_scene],
        )


def load_tasks(suite_name_or_path: str):
    """Task specs of a built-in suite or a task-spec YAML file (ValueError on bad input)."""
    from sim.tasks import load_tasks as _load

    return _load(suite_name_or_path)


__all__ = [
    "ENV_IDS",
    "TEST_SEED_START",
    "TRAIN_SEED_START",
    "VAL_SEED_START",
    "load_tasks",
    "seed_range",
]
