"""``vla-eval mode=chain``: chains of instructions in one scene, CALVIN's long-horizon metric.

Chain i resets the scene of a tabletop task of the suite (one with at least two blocks) at
seed ``seed + i``; then ``chain_length`` instructions (:func:`sim.tasks.chain.next_chain_task`,
drawn from the state the last one left) run one after another with the planner and policy,
without a reset. The chain stops at the first instruction whose goal does not hold. Reported:
the share of chains that completed 1, 2, ..., L instructions in a row, and the average number
completed (CALVIN's "average length").
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sim.tasks import TaskSpec, all_hold, load_tasks
from sim.tasks.chain import chain_scene_ok, next_chain_task
from vla.evaluation.episode import run_planned, skill_rows
from vla.evaluation.lerobot_keys import add_episode_keys, aggregated_keys, video_paths
from vla.evaluation.provenance import provenance, seed_ranges
from vla.evaluation.report import write_report
from vla.evaluation.runner import EvalSettings, Worker, collect
from vla.evaluation.stats import rate
from vla.planning.runners import planner_runner


@dataclass
class ChainResult:
    """One chain: its instructions, how many were completed in a row, and the time taken."""

    index: int
    task: str  # the scene's source task
    seed: int
    length: int
    completed: int = 0
    instructions: list[dict] = field(default_factory=list)
    video: str | None = None

    @property
    def success(self) -> bool:
        return self.completed == self.length

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "success": self.success}


@dataclass(frozen=True)
class ChainJob:
    index: int
    scene_task: TaskSpec
    seed: int
    length: int
    video: bool

    def run(self, worker: Worker) -> ChainResult:
        return run_chain(worker, self)


def _subtask(worker: Worker, env, policy, task: TaskSpec, observation: dict, on_step):
    """Run one instruction of a chain from the current state: (row, success, observation)."""
    s = worker.settings
    run = planner_runner(s.planner)
    results, plan = run_planned(env, policy, task, observation, run, on_step, s.planner_options)
    success = all_hold(task.goal, env.unwrapped.world.snapshot())
    row = {
        "instruction": task.instruction,
        "goal": [str(p) for p in task.goal],
        "success": success,
        "skills": skill_rows(results),
        "plan": plan,
    }
    return row, success, results[-1].observation if results else observation


def run_chain(worker: Worker, job: ChainJob) -> ChainResult:
    """Reset the scene once, then run instructions until one fails or ``length`` are done."""
    env = worker.env_for(job.scene_task.scene)
    policy = worker.policy_for(job.scene_task.scene, env)
    frames, on_step = worker.recorder(env, job.video)
    observation, _ = env.reset(seed=job.seed, options={"task": job.scene_task})
    rng = random.Random(job.seed)
    result = ChainResult(job.index, job.scene_task.instruction, job.seed, job.length)
    for _ in range(job.length):
        task = next_chain_task(job.scene_task, env.unwrapped.world.snapshot(), rng)
        row, success, observation = _subtask(worker, env, policy, task, observation, on_step)
        result.instructions.append(row)
        if not success:
            break
        result.completed += 1
    result.video = worker.save_video(frames, job.index, result.success)
    return result


def chain_aggregate(rows: list[dict], length: int) -> dict[str, Any]:
    """Success of k instructions in a row for k = 1..length, and the average length."""
    n = len(rows)
    in_a_row = [rate(sum(r["completed"] >= k for r in rows), n) for k in range(1, length + 1)]
    average = sum(r["completed"] for r in rows) / n if n else float("nan")
    return {"n": n, "in_a_row": in_a_row, "average_length": round(average, 3)}


def make_chain_jobs(
    tasks: str, n_chains: int, chain_length: int, seed: int, n_videos: int
) -> list[ChainJob]:
    """Chain i starts from the scene of the i-th chain-capable task of the suite (cycling)."""
    if n_chains < 1 or chain_length < 1:
        raise ValueError(f"n_chains and chain_length must be >= 1, got {n_chains}, {chain_length}")
    scenes = [t for t in load_tasks(tasks) if chain_scene_ok(t)]
    if not scenes:
        raise ValueError(f"{tasks!r} has no tabletop task with two or more blocks to chain in")
    return [
        ChainJob(i, scenes[i % len(scenes)], seed + i, chain_length, i < n_videos)
        for i in range(n_chains)
    ]


def evaluate_chains(
    tasks: str = "structured",
    n_chains: int = 20,
    chain_length: int = 5,
    policy: str = "rt1",
    planner: str = "oracle",
    planner_options: dict | None = None,
    seed: int = 1_000_000,
    output_dir: str | Path = "outputs/eval_chain",
    num_workers: int = 1,
    n_videos: int = 3,
    image_size: int = 64,
    render_size: int = 160,
    policy_filter: Any = None,
) -> dict[str, Any]:
    """Run the chains; write ``eval_info.json`` (``per_chain`` rows), ``report.md``, videos.
    ``policy_filter`` as in :func:`vla.evaluation.runner.evaluate`."""
    planner_runner(planner)
    if planner == "none":
        raise ValueError("mode=chain needs a planner that splits instructions: oracle or saycan")
    jobs = make_chain_jobs(tasks, n_chains, chain_length, seed, n_videos)
    ranges = seed_ranges([j.seed for j in jobs])  # warns before the run on training seeds
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    video_dir = str(out / "videos")
    settings = EvalSettings(
        policy, planner, image_size, render_size, video_dir, planner_options, policy_filter
    )
    results, seconds = collect(jobs, settings, num_workers, f"chains {Path(str(tasks)).stem}")
    rows = [add_episode_keys(r.to_dict(), r.completed) for r in results]
    config = dict(
        tasks=str(tasks),
        policy=policy,
        policy_filter=policy_filter,
        planner=planner,
        seed=seed,
        seed_range=ranges,
    )
    config.update(planner_options=planner_options or {}, num_workers=num_workers)
    config.update(n_chains=n_chains, chain_length=chain_length, image_size=image_size)
    info = {
        "config": config,
        "per_episode": rows,
        "aggregated": {
            **chain_aggregate(rows, chain_length),
            **aggregated_keys(rows, seconds),
            "episodes_per_min": round(60 * len(rows) / seconds, 2),
            **provenance(),
        },
        "video_paths": video_paths(rows, video_dir),
    }
    (out / "eval_info.json").write_text(json.dumps(info, indent=2))
    write_report(info, out)
    return info
