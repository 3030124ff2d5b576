"""Collect affordance labels: run skills from diverse states and record whether they worked.

Per seeded episode: the seed picks a built-in suite and a task; the env is reset; the
scripted expert runs a random-length prefix of the oracle plan (re-planned after each skill,
so states include held blocks, filled bowls, the robot at another area); then, from that
state, each labelled skill (the oracle's next skill and random candidates of the scene,
never ``done``) runs with the labelling policy after ``restore_state``. The label is the
skill's simulator success check (:func:`sim.rollout.run_skill`).

:func:`collect_dataset` (``vla-collect-affordance``) labels the seeds of a run in worker
processes and appends them to the dataset folder as shards, written by this process only.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import torch
from tqdm import tqdm

from planners.candidates import candidate_skills
from sim import TEST_SEED_START
from sim.env import VLAEnv
from sim.expert import ScriptedExpert
from sim.rollout import run_skill
from sim.tasks import (
    BUILTIN_SUITES,
    TaskSpec,
    is_feasible,
    load_tasks,
    oracle_next_skill,
    oracle_plan,
)
from vla.data.writer_lock import acquire_lock, release_lock
from vla.durable import append_line
from vla.options import at_least, one_of
from vla.parallel import worker_map
from vla.planning.affordance.dataset import (
    COMMANDS_FILE,
    ShardBuffer,
    done_episodes,
    load_dataset,
    summarize,
)
from vla.planning.lm.corpus import scene_of

DONE = "done"
LOCK_FILE = ".writer.lock"


@dataclass
class CollectConfig:
    """Options of ``vla-collect-affordance`` (configs/collect_affordance.yaml); also what each
    labelling worker gets (picklable, for spawn workers)."""

    output_dir: str = "data/affordance"
    episodes: int = 100  # episodes (states) to label: seeds seed_start .. seed_start+episodes-1
    seed_start: int = 0  # training seeds only (< 1,000,000; test seeds start there)
    suites: list[str] = field(default_factory=lambda: list(BUILTIN_SUITES))  # built-in suites
    policy: str = "rt1"  # the labelling policy: name, checkpoint folder, ws:// URL, or expert
    max_steps: int = 80  # labelling step cap per skill (expert skills take <= 40 steps)
    oracle_skills: int = 1  # label the oracle planner's next skill (a feasible one): 1 or 0
    random_skills: int = 3  # other random candidate skills of the scene per state
    image_size: int = 64  # camera resolution (pixels)
    shard_episodes: int = 10  # episodes per shard (a crash loses at most the unwritten ones)
    num_workers: int = 0  # spawn worker processes; 0 labels in this process
    threads: int = 1  # torch CPU threads per labelling process

    def __post_init__(self) -> None:
        unknown = [s for s in self.suites if s not in BUILTIN_SUITES]
        if not self.suites or unknown:
            raise ValueError(
                f"suites={self.suites}: choose built-in suites of {list(BUILTIN_SUITES)}"
            )
        one_of(self, "oracle_skills", (0, 1))
        at_least(self, 1, "episodes", "max_steps", "image_size", "shard_episodes", "threads")
        at_least(self, 0, "seed_start", "random_skills", "num_workers")


@dataclass
class LabelledState:
    """The samples of one episode (one state, several skills)."""

    seed: int
    suite: str
    samples: list[dict] = field(default_factory=list)


def check_seeds(seeds: list[int]) -> None:
    """Only training seeds: the test range (>= TEST_SEED_START) never feeds training."""
    bad = [s for s in seeds if not 0 <= s < TEST_SEED_START]
    if bad:
        raise ValueError(
            f"seed {bad[0]} is outside the training range [0, {TEST_SEED_START}): "
            "lower seed_start or episodes"
        )


def pick_task(seed: int, suites: tuple[str, ...]) -> tuple[str, TaskSpec]:
    """The suite and task of episode ``seed`` (deterministic)."""
    rng = random.Random(seed)
    suite = rng.choice(suites)
    return suite, rng.choice(_tasks(suite))


@cache
def _tasks(suite: str) -> list[TaskSpec]:
    return load_tasks(suite)


def run_prefix(env: VLAEnv, task: TaskSpec, observation: dict, length: int) -> dict:
    """The expert runs the oracle's next skill ``length`` times (re-planning each time)."""
    expert = ScriptedExpert(env)
    for _ in range(length):
        skill = oracle_next_skill(task, env.world.snapshot())
        if skill == DONE:
            break
        observation = run_skill(env, expert, skill, observation).observation
    return observation


def choose_skills(task: TaskSpec, next_skill: str, rng: random.Random, cfg: CollectConfig):
    """The oracle's next skill (if any and asked for) plus ``random_skills`` other candidates."""
    chosen = [next_skill] if next_skill != DONE and cfg.oracle_skills > 0 else []
    others = [s for s in candidate_skills(scene_of(task)) if s != DONE and s not in chosen]
    return chosen + rng.sample(others, min(cfg.random_skills, len(others)))


def label_episode(env: VLAEnv, policy, seed: int, cfg: CollectConfig) -> LabelledState:
    """Reset to episode ``seed``, walk a random plan prefix, label skills from there."""
    suite, task = pick_task(seed, cfg.suites)
    rng = random.Random(seed + 7_919)  # independent of pick_task's draws
    observation, _ = env.reset(seed=seed, options={"task": task})
    plan = [s for s in oracle_plan(task, env.world.snapshot()) if s != DONE]
    observation = run_prefix(env, task, observation, rng.randint(0, max(len(plan) - 1, 0)))
    state = env.world.snapshot()
    next_skill = oracle_next_skill(task, state)
    out, saved = LabelledState(seed, suite), env.save_state()
    for skill in choose_skills(task, next_skill, rng, cfg):
        env.restore_state(saved)
        result = run_skill(env, policy, skill, observation, max_steps=cfg.max_steps)
        out.samples.append(
            {
                "front": observation["images"]["front"],
                "wrist": observation["images"]["wrist"],
                "skill": skill,
                "label": bool(result.success),
                "oracle": skill == next_skill,
                "feasible": is_feasible(state, skill),
                "episode": seed,
                "steps": result.steps,
                "suite": suite,
            }
        )
    env.restore_state(saved)
    return out


class Labeller:
    """One env per scene and one labelling policy, reused across episodes (per process)."""

    def __init__(self, cfg: CollectConfig) -> None:
        torch.set_num_threads(cfg.threads)
        self.cfg = cfg
        self.envs: dict[str, VLAEnv] = {}
        self.policies: dict[str, object] = {}

    def __call__(self, seed: int) -> LabelledState:
        _, task = pick_task(seed, self.cfg.suites)
        if task.scene not in self.envs:
            self.envs[task.scene] = VLAEnv(task.scene, tasks=[task], image_size=self.cfg.image_size)
        env = self.envs[task.scene]
        return label_episode(env, self._policy(env), seed, self.cfg)

    def _policy(self, env: VLAEnv):
        from vla.evaluation.episode import make_policy

        if self.cfg.policy == "expert":  # bound to its env: one per scene
            return make_policy("expert", env)
        if self.cfg.policy not in self.policies:
            self.policies[self.cfg.policy] = make_policy(self.cfg.policy, env)
        return self.policies[self.cfg.policy]

    def close(self) -> None:
        """Close the envs."""
        for env in self.envs.values():
            env.close()
        self.envs.clear()


def run_jobs(seeds: list[int], cfg: CollectConfig, num_workers: int) -> Iterator[LabelledState]:
    """Labelled episodes in completion order, in ``num_workers`` spawn processes (0: inline)."""
    return worker_map(Labeller, cfg, seeds, num_workers)


def collect_dataset(cfg: CollectConfig) -> str:
    """Collect what ``cfg`` asks for (``vla-collect-affordance``); returns the summary."""
    directory = Path(cfg.output_dir).expanduser()
    seeds = list(range(cfg.seed_start, cfg.seed_start + cfg.episodes))
    check_seeds(seeds)
    directory.mkdir(parents=True, exist_ok=True)
    acquire_lock(directory / LOCK_FILE)
    try:
        done = done_episodes(directory)
        pending = [s for s in seeds if s not in done]
        command = " ".join(["vla-collect-affordance", *sys.argv[1:]])
        append_line(directory / COMMANDS_FILE, f"{command}\n".encode())
        _collect(pending, cfg, directory, cfg.num_workers, cfg.shard_episodes)
    finally:
        release_lock(directory / LOCK_FILE, os.getpid())
    summary = f"dataset {directory}: {summarize(load_dataset(directory))}"
    print(summary)
    return summary


def _collect(seeds: list[int], cfg: CollectConfig, directory: Path, workers: int, every: int):
    buffer = ShardBuffer(directory)
    bar = tqdm(total=len(seeds), desc="labelling", unit="episode", disable=None)
    try:
        for state in run_jobs(seeds, cfg, workers):
            buffer.add(state.seed, state.samples)
            if len(buffer.episodes) >= every:
                buffer.flush()
            bar.update()
    finally:  # Ctrl-C or an error: keep the finished episodes
        buffer.flush()
        bar.close()
