"""``vla-record``: write successful scripted-expert episodes to a dataset (resumable).

    vla-record output_dir=data/demos episodes_per_suite=50
    vla-record split=test suites=[single] episodes_per_suite=20 output_dir=data/demos_test

Each task episode is planned by the oracle and executed skill by skill by the expert;
every skill that succeeds becomes one dataset episode conditioned on its skill text.
Rerunning the same command resumes: recorded task episodes are skipped.
"""

from __future__ import annotations

import hydra
import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from sim import TEST_SEED_START, TRAIN_SEED_START
from sim.env import VLAEnv
from sim.expert import ScriptedExpert
from sim.rollout import SkillResult, run_oracle_task
from sim.skill_text import parse_skill
from sim.tasks import load_tasks
from vla.cli.errors import run_app
from vla.data import EpisodeStore

SUITE_SEED_STRIDE = 100_000  # each suite gets its own block of seeds


def task_seed(split: str, suite_index: int, episode: int) -> int:
    """Seed of one task episode; train and test ranges never overlap."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    start = TRAIN_SEED_START if split == "train" else TEST_SEED_START
    return start + suite_index * SUITE_SEED_STRIDE + episode


def record_task(env, store: EpisodeStore, task, seed: int, key: str, fields: dict) -> int:
    """Run one task episode and store each successful skill; returns how many were stored.

    Each skill episode gets the key ``<key>/<k>``; the task key is marked done at the end,
    so a rerun skips the task whatever its outcome.
    """
    obs, _ = env.reset(seed=seed, options={"task": task})
    steps: list[tuple[dict, np.ndarray]] = []
    segments: list[tuple[SkillResult, list]] = []

    def on_step(observation, action):
        steps.append((observation, action))

    def on_skill(result: SkillResult):
        segments.append((result, list(steps)))
        steps.clear()

    run_oracle_task(env, ScriptedExpert(env), task, obs, on_skill=on_skill, on_step=on_step)
    stored = 0
    for k, (result, segment) in enumerate(segments):
        if not result.success or store.has(f"{key}/{k}"):
            continue
        store.add_episode(
            [{"images": o["images"], "state": o["state"], "action": a} for o, a in segment],
            key=f"{key}/{k}",
            instruction=result.skill,
            skill=parse_skill(result.skill).name,
            seed=seed,
            **fields,
        )
        stored += 1
    store.mark_done(key, meta={"task_success": bool(env.is_success()), "skills": len(segments)})
    return stored


def record(cfg: DictConfig) -> EpisodeStore:
    """Record what ``cfg`` asks for (see configs/record.yaml); returns the open store."""
    size = (cfg.image_size, cfg.image_size)
    jobs = []
    with EpisodeStore.open_or_create(cfg.output_dir, image_size=size) as store:
        for s, suite in enumerate(cfg.suites):
            tasks = load_tasks(suite)
            for i in range(cfg.episodes_per_suite):
                key = f"{cfg.split}/{suite}/{i}"
                if not store.has(key):
                    jobs.append((suite, tasks[i % len(tasks)], task_seed(cfg.split, s, i), key))
        envs: dict[str, VLAEnv] = {}
        bar = tqdm(jobs, desc="recording", unit="task", disable=None)
        for suite, task, seed, key in bar:
            if task.scene not in envs:
                envs[task.scene] = VLAEnv(task.scene, tasks=[task], image_size=cfg.image_size)
            fields = dict(
                task=task.instruction,
                family=task.family or suite,
                scene=task.scene,
                split=cfg.split,
                meta={"suite": suite},
            )
            record_task(envs[task.scene], store, task, seed, key, fields)
            bar.set_postfix(episodes=len(store))
        for env in envs.values():
            env.close()
        print(f"dataset {cfg.output_dir}: {store.summary()}")
    return EpisodeStore.open(cfg.output_dir)


@hydra.main(config_path="../../configs", config_name="record", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-record", record, cfg, on_interrupt="finished episodes are safe, rerun to resume")


if __name__ == "__main__":
    main()
