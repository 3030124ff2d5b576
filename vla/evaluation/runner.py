"""``evaluate``: run a task suite with a policy and planner, in parallel worker processes,
and write ``eval_info.json`` plus videos of the first episodes.

Each worker process holds its own simulator per scene and its own copy of the policy and
runs whole episodes: between skills the planner needs that env's privileged state, so
episodes are the unit of parallelism rather than batched steps of a vector env.

With ``planner=saycan`` and a learned policy, every episode runs twice from the same seed:
once executed by the scripted expert (**plan success**: the planner's choices reach the
goal when every skill is carried out well) and once by the policy (**execution success**,
the episode's ``success``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sim.env import VLAEnv
from sim.tasks import BUILTIN_SUITES, TaskSpec, load_tasks
from vla.evaluation.episode import EpisodeResult, make_policy, run_episode
from vla.evaluation.lerobot_keys import add_episode_keys, aggregated_keys, video_paths
from vla.evaluation.provenance import provenance, seed_ranges
from vla.evaluation.report import write_report
from vla.evaluation.stats import aggregate
from vla.parallel import worker_map
from vla.planning.runners import planner_runner
from vla.video import compose_frame, write_video


@dataclass(frozen=True)
class EvalSettings:
    """What every worker needs to build its envs and policy."""

    policy: str
    planner: str
    image_size: int
    render_size: int
    video_dir: str | None
    planner_options: dict | None = None
    policy_filter: Any = None  # a hand-written action filter around the policy (vla.filters)

    @property
    def checks_plan(self) -> bool:
        """SayCan episodes also run with the expert, to separate planning from execution."""
        return self.planner == "saycan"


@dataclass(frozen=True)
class Job:
    """One evaluation episode: ``task`` reset from ``seed``."""

    index: int
    task: TaskSpec
    seed: int
    video: bool

    def run(self, worker: Worker) -> EpisodeResult:
        return worker.episode(self)


class Worker:
    """Envs (one per scene) and a policy, built lazily and reused across episodes."""

    def __init__(self, settings: EvalSettings) -> None:
        self.settings = settings
        self.envs: dict[str, VLAEnv] = {}
        self.policies: dict[str, Any] = {}

    def policy_for(self, scene: str, env: VLAEnv, name: str | None = None):
        """The expert is per env (it reads that env's state); a learned policy is shared."""
        name = name or self.settings.policy
        key = (name, scene if name == "expert" else "")
        if key not in self.policies:
            rule = self.settings.policy_filter if name == self.settings.policy else None
            self.policies[key] = make_policy(name, env, rule)
        return self.policies[key]

    def env_for(self, scene: str) -> VLAEnv:
        s = self.settings
        if scene not in self.envs:
            self.envs[scene] = VLAEnv(scene, image_size=s.image_size, render_size=s.render_size)
        return self.envs[scene]

    def plan_success(self, job: Job, env: VLAEnv) -> bool:
        """Whether the planner's episode with the expert executing reaches the goal."""
        s = self.settings
        expert = self.policy_for(job.task.scene, env, "expert")
        result = run_episode(
            env, expert, job.task, job.seed, s.planner, job.index, None, s.planner_options
        )
        return result.success

    def __call__(self, job: Any) -> Any:
        """Run a job (an episode, or a chain of them): ``job.run(self)``."""
        return job.run(self)

    def recorder(self, env: VLAEnv, video: bool) -> tuple[list, Any]:
        """(frames, an ``on_step`` hook filling them) when this job records a video."""
        frames: list = []
        if not (video and self.settings.video_dir):
            return frames, None

        def on_step(observation, action):
            frames.append(compose_frame(env.render(), observation["images"]["wrist"]))

        return frames, on_step

    def save_video(self, frames: list, index: int, success: bool) -> str | None:
        """Write ``episode_<index>_<success|failure>.mp4``; its file name (None if no frames)."""
        if not frames:
            return None
        name = f"episode_{index:04d}_{'success' if success else 'failure'}.mp4"
        return str(write_video(Path(self.settings.video_dir) / name, frames).name)

    def episode(self, job: Job) -> EpisodeResult:
        """One episode of ``job``; with SayCan also its plan success (expert executing)."""
        s, scene = self.settings, job.task.scene
        env = self.env_for(scene)
        frames, on_step = self.recorder(env, job.video)
        policy = self.policy_for(scene, env)
        result = run_episode(
            env, policy, job.task, job.seed, s.planner, job.index, on_step, s.planner_options
        )
        if s.checks_plan:
            expert_run = s.policy == "expert"
            result.plan_success = result.success if expert_run else self.plan_success(job, env)
        result.video = self.save_video(frames, job.index, result.success)
        return result

    def close(self) -> None:
        for env in self.envs.values():
            env.close()


def run_jobs(jobs: list, settings: EvalSettings, num_workers: int) -> Iterator[Any]:
    """Results in completion order; ``num_workers <= 1`` runs in this process."""
    return worker_map(Worker, settings, jobs, num_workers if num_workers > 1 else 0)


def collect(jobs: list, settings: EvalSettings, num_workers: int, desc: str) -> tuple[list, float]:
    """Run ``jobs`` with a progress bar; (results sorted by index, wall seconds)."""
    results: list = []
    start = time.perf_counter()
    bar = tqdm(total=len(jobs), desc=desc, unit="ep", disable=None)
    for result in run_jobs(jobs, settings, num_workers):
        results.append(result)
        bar.update()
        bar.set_postfix(success=f"{100 * sum(r.success for r in results) / len(results):.0f}%")
    bar.close()
    return sorted(results, key=lambda r: r.index), time.perf_counter() - start


ALL_SUITES = "all"


def resolve_tasks(tasks: str) -> list[TaskSpec]:
    """A suite name or task-spec YAML; ``all``: every built-in suite, interleaved (task 0 of
    each suite, then task 1 of each, ...) so that ``n_episodes`` spreads over the suites."""
    if str(tasks) != ALL_SUITES:
        return load_tasks(tasks)
    suites = [load_tasks(name) for name in BUILTIN_SUITES]
    return [suite[i] for i in range(max(map(len, suites))) for suite in suites if i < len(suite)]


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
    planner_options: dict | None = None,
    policy_filter: Any = None,
) -> dict[str, Any]:
    """Run the evaluation; write ``output_dir/eval_info.json``, ``report.md`` and videos.

    ``planner_options``: the ``planner.*`` settings of ``planner=saycan`` (see
    :class:`vla.planning.SayCanOptions`); other planners take none. ``policy_filter``: a
    hand-written action filter around the policy (:mod:`vla.filters`), recorded in the
    config so that its figures are never mistaken for the policy's own.
    """
    planner_runner(planner)  # unknown planner: fail before any work
    if planner == "saycan":
        from vla.planning import SayCanOptions

        SayCanOptions.from_mapping(planner_options)  # bad option: fail before any work
    jobs = make_jobs(resolve_tasks(tasks), n_episodes, seed, n_videos)
    ranges = seed_ranges([j.seed for j in jobs])  # warns before the run on training seeds
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    video_dir = str(out / "videos")
    settings = EvalSettings(
        policy, planner, image_size, render_size, video_dir, planner_options, policy_filter
    )
    results, seconds = collect(jobs, settings, num_workers, f"eval {Path(str(tasks)).stem}")
    rows = [add_episode_keys(r.to_dict(), r.success) for r in results]
    info = {
        "config": {
            "tasks": str(tasks),
            "policy": policy,
            "policy_filter": policy_filter,
            "planner": planner,
            "planner_options": planner_options or {},
            "n_episodes": len(jobs),
            "seed": seed,
            "seed_range": ranges,
            "num_workers": num_workers,
            "image_size": image_size,
        },
        "per_episode": rows,
        "aggregated": {
            **aggregate(rows),
            **({"plan_success": aggregate(rows, "plan_success")} if settings.checks_plan else {}),
            **aggregated_keys(rows, seconds),
            "episodes_per_s": round(len(rows) / seconds, 4),
            "episodes_per_min": round(60 * len(rows) / seconds, 2),
            **provenance(),
        },
        "video_paths": video_paths(rows, video_dir),
    }
    (out / "eval_info.json").write_text(json.dumps(info, indent=2))
    write_report(info, out)
    return info
