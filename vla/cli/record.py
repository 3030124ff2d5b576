"""``vla-record``: write successful scripted-expert episodes to a dataset (resumable).

    vla-record output_dir=data/demos episodes_per_suite=50
    vla-record split=test suites=[single] episodes_per_suite=20 output_dir=data/demos_test

Each task episode is planned by the oracle and executed skill by skill by the expert;
every skill that succeeds becomes one dataset episode conditioned on its skill text.
Rerunning the same command resumes: recorded task episodes are skipped.
"""

from __future__ import annotations

import sys

import hydra
import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from sim import TEST_SEED_START, TRAIN_SEED_START
from sim.env import VLAEnv
from sim.expert import ScriptedExpert
from sim.rollout import SkillResult, run_task
from sim.tasks import load_tasks
from sim.tasks.oracle import oracle_next_skill, oracle_plan
from vla.demos import DemoDataset

SUITE_SEED_STRIDE = 100_000  # each suite gets its own block of seeds


def task_seed(split: str, suite_index: int, episode: int) -> int:
    """Seed of one task episode; train and test ranges never overlap."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    start = TRAIN_SEED_START if split == "train" else TEST_SEED_START
    return start + suite_index * SUITE_SEED_STRIDE + episode


def record_task(env, dataset: DemoDataset, task, seed: int, key: str, fields: dict) -> int:
    """Run one task episode and store each successful skill; returns how many were stored."""
    obs, _ = env.reset(seed=seed, options={"task": task})
    expert = ScriptedExpert(env)
    steps: list[tuple[dict, np.ndarray]] = []
    segments: list[tuple[SkillResult, list]] = []

    def on_step(observation, action):
        steps.append((observation, action))

    def on_skill(result: SkillResult):
        segments.append((result, list(steps)))
        steps.clear()

    plan = oracle_plan(task, env.world.snapshot())
    run_task(
        env,
        expert,
        lambda s: oracle_next_skill(task, s),
        obs,
        max_skills=task.max_skills or len(plan) + 3,
        on_skill=on_skill,
        on_step=on_step,
    )
    stored = 0
    for k, (result, seg) in enumerate(segments):
        if not result.success:
            continue
        arrays = {
            "front": np.stack([o["images"]["front"] for o, _ in seg]),
            "wrist": np.stack([o["images"]["wrist"] for o, _ in seg]),
            "state": np.stack([o["state"] for o, _ in seg]),
            "action": np.stack([a for _, a in seg]).astype(np.float32),
        }
        last = k == len(segments) - 1
        dataset.add_episode(
            arrays,
            key=f"{key}/{k}",
            task_key=key,
            last=last,
            instruction=result.skill,
            seed=seed,
            **fields,
        )
        stored += 1
    if not segments or not segments[-1][0].success:  # mark the task as done anyway
        dataset.add_episode(
            _empty(dataset),
            key=f"{key}/end",
            task_key=key,
            last=True,
            instruction="",
            seed=seed,
            success=False,
            **fields,
        )
    return stored


def _empty(dataset: DemoDataset) -> dict:
    h, w = dataset.meta["image_size"]
    action = np.zeros((1, 11), np.float32)
    action[0, 10] = 2
    return {
        "front": np.zeros((1, h, w, 3), np.uint8),
        "wrist": np.zeros((1, h, w, 3), np.uint8),
        "state": np.zeros((1, 10), np.float32),
        "action": action,
    }


def record(cfg: DictConfig) -> DemoDataset:
    dataset = DemoDataset(cfg.output_dir, image_size=(cfg.image_size, cfg.image_size))
    done = {r["task_key"] for r in dataset.records if r.get("last")}
    jobs = []
    for s, suite in enumerate(cfg.suites):
        tasks = load_tasks(suite)
        for i in range(cfg.episodes_per_suite):
            key = f"{cfg.split}/{suite}/{i}"
            if key not in done:
                jobs.append((suite, tasks[i % len(tasks)], task_seed(cfg.split, s, i), key))
    envs: dict[str, VLAEnv] = {}
    bar = tqdm(jobs, desc="recording", unit="task", disable=None)
    for suite, task, seed, key in bar:
        env = envs.setdefault(
            task.scene, VLAEnv(task.scene, tasks=[task], image_size=cfg.image_size)
        )
        fields = dict(
            task=task.instruction,
            family=task.family,
            suite=suite,
            scene=task.scene,
            split=cfg.split,
        )
        record_task(env, dataset, task, seed, key, {**fields, "success": True})
        bar.set_postfix(episodes=len(dataset))
    for env in envs.values():
        env.close()
    print(f"dataset {cfg.output_dir}: {dataset.summary()}")
    return dataset


@hydra.main(config_path="../../configs", config_name="record", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        record(cfg)
    except ValueError as error:
        raise SystemExit(f"vla-record: error: {error}") from None
    except KeyboardInterrupt:
        print(
            "vla-record: interrupted; finished episodes are safe, rerun to resume", file=sys.stderr
        )
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
