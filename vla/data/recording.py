"""Recording scripted-expert demonstrations into a dataset (``vla-record``; resumable).

Each task episode is planned by the oracle and executed skill by skill by the expert;
every skill that succeeds becomes one dataset episode conditioned on its skill text. With a
``learner`` policy, each skill is executed by it with probability ``learner_prob`` and not
recorded (:class:`sim.perturb.SkillMix`): the expert's skills then start where the learner's
left off, the states a learned policy meets in a multi-skill task. With ``dagger_beta``
(DAgger, :class:`sim.perturb.DaggerMix`) the learner executes every step (the expert's
action with probability ``dagger_beta``) and every step is recorded with the expert's action
for the state the learner reached as its label, failed skills included. With
``chain_length``, a task episode is a chain in the task's scene, as ``vla-eval mode=chain``
runs them: one-goal instructions (:func:`sim.tasks.chain.next_chain_task`), each from where
the last left the world, so later instructions start among blocks already moved.
Worker processes run the simulator; only the parent writes the dataset, so the store keeps
one writer. Rerunning the same command resumes: recorded task episodes are skipped.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from sim import TEST_SEED_START, TRAIN_SEED_START, seed_range
from sim.env import VLAEnv
from sim.expert import ScriptedExpert
from sim.perturb import DaggerMix, NoisyExpert, SkillMix, check_learner, jitter_start
from sim.rollout import run_oracle_task
from sim.skill_text import parse_skill
from sim.tasks import BUILTIN_SUITES, TaskSpec, all_hold, load_tasks
from sim.tasks.chain import CHAIN_FAMILY, chain_scene_ok, next_chain_task
from vla.data import EpisodeStore
from vla.options import at_least, one_of
from vla.parallel import worker_map
from vla.policies import load_policy
from vla.robot.config import RobotConfig

SUITE_SEED_STRIDE = 100_000  # each suite gets its own block of seeds
PERTURB_STREAM = 7  # the perturbations' RNG: (episode seed, this), apart from the env's
SPLITS = ("train", "test")
CHAIN_SEEDS = 50_000  # chain episodes take the second half of their suite's block of seeds


@dataclass
class RecordConfig:
    """Options of ``vla-record`` (configs/record.yaml)."""

    output_dir: str = "data/demos"  # the dataset folder (created, or resumed)
    # built-in suite names or task-spec YAML paths
    suites: list[str] = field(
        default_factory=lambda: ["single", "structured", "long_horizon", "mobile"]
    )
    episodes_per_suite: int = 20  # task episodes per suite (each yields one episode per skill)
    # train: seeds [0, 1e6), a block of 100,000 per suite; test: [1e6, 2e6) (sim/seeds.py)
    split: str = "train"
    image_size: int = 64  # camera resolution (pixels)
    action_noise: float = 0.0  # DART: std of noise on the executed arm translation (labels clean)
    start_jitter: int = 0  # random arm steps (up to) before the first skill: varied start poses
    learner: str | None = None  # policy (name, folder or URL) that executes some skills
    # probability that the learner executes a skill (not recorded): the expert's skills then
    # start from the learner's states (DAgger-style; sim/perturb.py)
    learner_prob: float = 0.0
    # DAgger: the learner executes every step (the expert's action with this probability)
    # and the expert labels every state it visits; None: off
    dagger_beta: float | None = None
    # > 0: each task episode is a chain of this many one-goal instructions in the task's scene
    # (tabletop tasks with two or more blocks), each from where the last left the world; the
    # chain stops at the first that fails. 0: the task's own instruction
    chain_length: int = 0
    num_workers: int = 0  # simulator worker processes (0: run in this process); one writer
    # keyboard: a person drives robot= instead of the expert (vla.robot.teleop_record)
    teleop: str | None = None
    teleop_episodes: int = 1  # teleop: episodes to record in this session
    teleop_max_steps: int = 400  # teleop: control steps per episode at most (20 Hz)
    # teleop: a file of key presses, one line per step (\r: enter), instead of the terminal
    teleop_keys: str | None = None
    instruction: str | None = None  # teleop: the instruction typed; None: the sim task's
    robot: RobotConfig = field(default_factory=RobotConfig)  # teleop: pybullet | xarm

    def __post_init__(self) -> None:
        if not self.suites:
            raise ValueError("suites=[]: give at least one suite name or task-spec path")
        one_of(self, "split", SPLITS)
        at_least(self, 1, "episodes_per_suite", "image_size", "teleop_episodes")
        at_least(self, 1, "teleop_max_steps")
        if self.teleop is not None:
            from vla.robot.teleop_record import TELEOP_DEVICES

            one_of(self, "teleop", TELEOP_DEVICES)
        at_least(self, 0, "action_noise", "start_jitter", "num_workers", "chain_length")
        check_learner(self.learner_prob, bool(self.learner))
        if self.dagger_beta is not None and not (
            0.0 <= self.dagger_beta <= 1.0 and self.learner and not self.learner_prob
        ):
            raise ValueError(
                f"dagger_beta={self.dagger_beta}: give a value in [0, 1], a learner= and "
                "learner_prob=0 (DAgger labels every step the learner takes)"
            )


def task_seed(split: str, suite_index: int, episode: int) -> int:
    """Seed of one task episode, inside ``split``'s range (:mod:`sim.seeds`), else ValueError."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    start = TRAIN_SEED_START if split == "train" else TEST_SEED_START
    seed = start + suite_index * SUITE_SEED_STRIDE + episode
    if not 0 <= episode < SUITE_SEED_STRIDE or seed_range(seed) != split:
        raise ValueError(
            f"{split} episode {episode} of suite block {suite_index} would use seed {seed}, "
            f"outside the {split} seeds: record at most {SUITE_SEED_STRIDE:,} episodes per "
            "suite, and fewer task-spec files in one call"
        )
    return seed


@dataclass
class Job:
    """One task episode to record under ``key``."""

    suite: str
    task: TaskSpec
    seed: int
    key: str
    image_size: int
    action_noise: float = 0.0  # DART noise on the executed arm translation (labels clean)
    start_jitter: int = 0  # random arm steps before the first skill
    learner: str | None = None  # policy name or checkpoint that executes some skills
    learner_prob: float = 0.0  # probability that the learner executes a skill (not recorded)
    dagger_beta: float | None = None  # DAgger: the learner acts every step, expert labels
    chain_length: int = 0  # > 0: a chain of this many instructions in the task's scene


@dataclass
class Recorded:
    """What one task episode produced: per skill (text, recordable, steps, success, the
    instruction it served), and task (or whole chain) success.

    A skill is recordable when the expert executed it and it succeeded, or, under DAgger,
    always (the expert labelled every step)."""

    job: Job
    skills: list[tuple[str, bool, list[dict], bool]] = field(default_factory=list)
    task_success: bool = False


def run_task_episode(env: VLAEnv, job: Job, learner=None) -> Recorded:
    """Plan with the oracle and execute with the expert (perturbed as ``job`` asks: see
    :mod:`sim.perturb`), or with ``learner`` for some skills, or (DAgger) with the learner
    labelled by the expert at every step; split the steps by skill. The recorded action is
    always the expert's own."""
    obs, _ = env.reset(seed=job.seed, options={"task": job.task})
    rng = np.random.default_rng([job.seed, PERTURB_STREAM])
    if job.start_jitter:
        obs = jitter_start(env, obs, rng, job.start_jitter)
    if job.dagger_beta is not None:
        policy = DaggerMix(env, learner, job.dagger_beta, rng)
    else:
        expert = NoisyExpert(ScriptedExpert(env), job.action_noise, rng)  # noise 0: the expert
        policy = SkillMix(expert, learner, job.learner_prob, rng)  # prob 0: the expert alone
    every_skill = getattr(policy, "records_every_skill", False)
    out = Recorded(job)
    steps: list[dict] = []

    def on_step(observation, _executed):
        if policy.by_learner:
            return
        steps.append(
            {
                "images": observation["images"],
                "state": observation["state"],
                "action": policy.label,
            }
        )

    instruction = job.task.instruction

    def on_skill(result):
        recordable = (bool(result.success) or every_skill) and not policy.by_learner
        success = bool(result.success)
        out.skills.append((result.skill, recordable, list(steps), success, instruction))
        steps.clear()

    if not job.chain_length:
        run_oracle_task(env, policy, job.task, obs, on_skill=on_skill, on_step=on_step)
        out.task_success = bool(env.is_success())
        return out
    rng_chain, out.task_success = random.Random(job.seed), True
    for _ in range(job.chain_length):
        try:
            task = next_chain_task(job.task, env.unwrapped.world.snapshot(), rng_chain)
        except ValueError:  # every placement holds already or cannot be planned: chain over
            break
        instruction = task.instruction
        results = run_oracle_task(env, policy, task, obs, on_skill=on_skill, on_step=on_step)
        if not all_hold(task.goal, env.unwrapped.world.snapshot()):
            out.task_success = False
            break
        obs = results[-1].observation if results else obs
    return out


class Recorder:
    """Runs record jobs with one env per (scene, image size) and one loaded learner per
    name, reused across jobs."""

    def __init__(self, _: object = None) -> None:
        self.envs: dict[tuple[str, int], VLAEnv] = {}
        self.learners: dict[str, object] = {}

    def __call__(self, job: Job) -> Recorded:
        key = (job.task.scene, job.image_size)
        if key not in self.envs:
            self.envs[key] = VLAEnv(job.task.scene, tasks=[job.task], image_size=job.image_size)
        if job.learner and job.learner not in self.learners:
            self.learners[job.learner] = load_policy(job.learner)
        learner = self.learners.get(job.learner) if job.learner else None
        return run_task_episode(self.envs[key], job, learner)

    def close(self) -> None:
        for env in self.envs.values():
            env.close()


def run_jobs(jobs: list[Job], num_workers: int) -> Iterator[Recorded]:
    """Results of ``jobs`` in completion order, in ``num_workers`` processes (0: inline)."""
    return worker_map(Recorder, None, jobs, num_workers)


def store_recorded(store: EpisodeStore, rec: Recorded, split: str) -> int:
    """Write each successful skill as ``<key>/<k>``, then mark the task key done."""
    job, stored = rec.job, 0
    fields = dict(
        family=CHAIN_FAMILY if job.chain_length else job.task.family or job.suite,
        scene=job.task.scene,
        split=split,
        meta={"suite": job.suite, **perturbation_meta(job)},
    )
    for k, (skill, recordable, steps, success, instruction) in enumerate(rec.skills):
        if not recordable or not steps or store.has(f"{job.key}/{k}"):
            continue
        store.add_episode(
            steps,
            key=f"{job.key}/{k}",
            instruction=skill,
            skill=parse_skill(skill).name,
            seed=job.seed,
            success=success,
            task=instruction,
            **fields,
        )
        stored += 1
    store.mark_done(job.key, meta={"task_success": rec.task_success, "skills": len(rec.skills)})
    return stored


def perturbation_meta(job: Job) -> dict:
    """The perturbation settings of ``job`` that are on, for the episode's metadata."""
    meta = {
        "action_noise": job.action_noise,
        "start_jitter": job.start_jitter,
        "learner": job.learner if job.learner_prob or job.dagger_beta is not None else None,
        "learner_prob": job.learner_prob,
        "dagger_beta": job.dagger_beta,
        "chain_length": job.chain_length,
    }
    return {k: v for k, v in meta.items() if v or (k == "dagger_beta" and v is not None)}


def suite_block(suite: str, position: int) -> int:
    """Seed block of a suite: fixed for built-in suites (so separate runs never share
    seeds), after them by position in ``suites`` for task-spec files."""
    if suite in BUILTIN_SUITES:
        return list(BUILTIN_SUITES).index(suite)
    return len(BUILTIN_SUITES) + position


def pending_jobs(
    cfg: RecordConfig,
    store: EpisodeStore,
    suite_tasks: dict[str, list[TaskSpec]],
    learner_args: tuple[str | None, float, float | None],
) -> list[Job]:
    """The task episodes ``cfg`` asks for that ``store`` does not have yet."""
    noise, jitter, chain = cfg.action_noise, cfg.start_jitter, cfg.chain_length
    jobs = []
    for s, suite in enumerate(cfg.suites):
        tasks = suite_tasks[suite]
        for i in range(cfg.episodes_per_suite):
            key = f"{cfg.split}/{suite}/chain/{i}" if chain else f"{cfg.split}/{suite}/{i}"
            if not store.has(key):
                seed = task_seed(
                    cfg.split, suite_block(suite, s), i + (CHAIN_SEEDS if chain else 0)
                )
                task = tasks[i % len(tasks)]
                jobs.append(
                    Job(suite, task, seed, key, cfg.image_size, noise, jitter, *learner_args, chain)
                )
    return jobs


def chain_scenes(suite_tasks: dict[str, list[TaskSpec]]) -> dict[str, list[TaskSpec]]:
    """The tasks of each suite whose scene can start a chain; ValueError for a suite with none."""
    scenes = {
        suite: [t for t in tasks if chain_scene_ok(t)] for suite, tasks in suite_tasks.items()
    }
    empty = [suite for suite, tasks in scenes.items() if not tasks]
    if empty:
        raise ValueError(
            f"chain_length needs tabletop tasks with two or more blocks; {', '.join(empty)} has "
            "none: record chains from suites such as structured or long_horizon"
        )
    return scenes


def learner_settings(cfg: RecordConfig) -> tuple[str | None, float, float | None]:
    """(learner, learner_prob, dagger_beta) from ``cfg``, checked before any episode runs."""
    used = cfg.learner_prob > 0 or cfg.dagger_beta is not None
    if used:
        load_policy(str(cfg.learner))  # a bad name or folder fails here, not in every worker
    return (str(cfg.learner) if used else None), cfg.learner_prob, cfg.dagger_beta


def record(cfg: RecordConfig) -> EpisodeStore:
    """Record what ``cfg`` asks for; returns the dataset, open for reading."""
    if cfg.teleop:
        from vla.robot.teleop_record import record_teleop

        return record_teleop(cfg)
    suite_tasks = {suite: load_tasks(suite) for suite in cfg.suites}  # bad input: fail before
    if cfg.chain_length:  # anything is written
        suite_tasks = chain_scenes(suite_tasks)
    learner_args = learner_settings(cfg)
    size = (cfg.image_size, cfg.image_size)
    with EpisodeStore.open_or_create(cfg.output_dir, image_size=size) as store:
        jobs = pending_jobs(cfg, store, suite_tasks, learner_args)
        bar = tqdm(total=len(jobs), desc="recording", unit="task", disable=None)
        for rec in run_jobs(jobs, cfg.num_workers):
            store_recorded(store, rec, cfg.split)
            bar.update()
            bar.set_postfix(episodes=len(store))
        bar.close()
        print(f"dataset {cfg.output_dir}: {store.summary()}")
    return EpisodeStore.open(cfg.output_dir)
