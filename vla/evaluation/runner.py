"""``evaluate``: run a task suite with a policy and planner, in parallel worker processes,
and write ``eval_info.json`` plus videos of the first episodes.

Each worker process holds its own simulator per scene and its own copy of the policy and
runs whole episodes: between skills the planner needs that env's privileged state, so
episodes are the unit of parallelism rather than batched steps of a vector env.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sim.env import VLAEnv
from sim.tasks import TaskSpec, load_tasks
from vla.evaluation.episode import EpisodeResult, make_policy, planner_runner, run_episode
from vla.evaluation.provenance import provenance
from vla.evaluation.stats import aggregate
from vla.video import compose_frame, write_video


@dataclass(frozen=True)
class EvalSettings:
    """What every worker needs to build its envs and policy."""

    policy: str
    planner: str
    image_size: int
    render_size: int
    video_dir: str | None


@dataclass(frozen=True)
class Job:
    index: int
    task: TaskSpec
    seed: int
    video: bool


class Worker:
    """Envs (one per scene) and a policy, built lazily and reused across episodes."""

    def __init__(self, settings: EvalSettings) -> None:
        self.settings = settings
        self.envs: dict[str, VLAEnv] = {}
        self.policies: dict[str, Any] = {}

    def policy_for(self, scene: str, env: VLAEnv):
        """The expert is per env (it reads that env's state); a learned policy is shared."""
        key = scene if self.settings.policy == "expert" else "learned"
        if key not in self.policies:
            self.policies[key] = make_policy(self.settings.policy, env)
        return self.policies[key]

    def __call__(self, job: Job) -> EpisodeResult:
        s, scene = self.settings, job.task.scene
        if scene not in self.envs:
            self.envs[scene] = VLAEnv(scene, image_size=s.image_size, render_size=s.render_size)
        env = self.envs[scene]
        frames: list = []
        on_step = None
        if job.video and s.video_dir:

            def on_step(observation, action):
                frames.append(compose_frame(env.render(), observation["images"]["wrist"]))

        result = run_episode(
            env, self.policy_for(scene, env), job.task, job.seed, s.planner, job.index, on_step
        )
        if frames:
            name = f"episode_{job.index:04d}_{'success' if result.success else 'failure'}.mp4"
            result.video = str(write_video(Path(s.video_dir) / name, frames).name)
        return result

    def close(self) -> None:
        for env in self.envs.values():
            env.close()


_WORKER: Worker | None = None


def _init_worker(settings: EvalSettings) -> None:
    import torch

    torch.set_num_threads(1)  # one core per worker process
    global _WORKER
    _WORKER = Worker(settings)


def _run_in_worker(job: Job) -> EpisodeResult:
    assert _WORKER is not None
    return _WORKER(job)


def run_jobs(jobs: list[Job], settings: EvalSettings, num_workers: int) -> Iterator[EpisodeResult]:
    """Results in completion order; ``num_workers <= 1`` runs in this process."""
    if num_workers <= 1:
        worker = Worker(settings)
        try:
            yield from map(worker, jobs)
        finally:
            worker.close()
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(num_workers, initializer=_init_worker, initargs=(settings,)) as pool:
        yield from pool.imap_unordered(_run_in_worker, jobs, chunksize=1)


def make_jobs(tasks: list[TaskSpec], n_episodes: int | None, seed: int, n_videos: int) -> list[Job]:
    """Episode i runs task i mod len(tasks) at seed ``seed + i``."""
    n = len(tasks) if n_episodes is None else int(n_episodes)
    if n < 1:
        raise ValueError(f"n_episodes must be >= 1, got {n}")
    return [Job(i, tasks[i % len(tasks)], seed + i, i < n_videos) for i in range(n)]


def evaluate(
    tasks: str,
    policy: str,
    planner: str = "none",
    n_episodes: int | None = None,
    seed: int = 1_000_000,
    output_dir: str | Path = "outputs/eval",
    num_workers: int = 1,
    n_videos: int = 3,
    image_size: int = 64,
    render_size: int = 160,
) -> dict[str, Any]:
    """Run the evaluation, write ``output_dir/eval_info.json`` and videos; return the info."""
    planner_runner(planner)  # unknown planner: fail before any work
    jobs = make_jobs(load_tasks(tasks), n_episodes, seed, n_videos)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = EvalSettings(policy, planner, image_size, render_size, str(out / "videos"))
    results: list[EpisodeResult] = []
    start = time.perf_counter()
    bar = tqdm(total=len(jobs), desc=f"eval {Path(str(tasks)).stem}", unit="ep", disable=None)
    for result in run_jobs(jobs, settings, num_workers):
        results.append(result)
        bar.update()
        bar.set_postfix(success=f"{100 * sum(r.success for r in results) / len(results):.0f}%")
    bar.close()
    seconds = time.perf_counter() - start
    rows = [r.to_dict() for r in sorted(results, key=lambda r: r.index)]
    info = {
        "config": {
            "tasks": str(tasks),
            "policy": policy,
            "planner": planner,
            "n_episodes": len(jobs),
            "seed": seed,
            "num_workers": num_workers,
            "image_size": image_size,
        },
        "per_episode": rows,
        "aggregated": {
            **aggregate(rows),
            "eval_s": round(seconds, 2),
            "episodes_per_s": round(len(rows) / seconds, 4),
            **provenance(),
        },
    }
    (out / "eval_info.json").write_text(json.dumps(info, indent=2))
    return info
