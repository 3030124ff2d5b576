"""``vla-run``: carry out one long-horizon instruction in PyBullet, write a video and report.

vla-run                                   # default: first long_horizon task
vla-run tasks=mobile task_index=3 output_dir=outputs/mobile
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig

from sim.env import VLAEnv
from sim.rollout import SkillResult
from sim.tasks import TaskSpec, load_tasks
from sim.tasks.oracle import oracle_plan
from vla.cli.errors import run_app
from vla.evaluation.episode import make_policy, planner_runner
from vla.video import compose_frame, contact_sheet, write_video


def pick_task(cfg: DictConfig) -> TaskSpec:
    """The task named by ``cfg.instruction`` in ``cfg.tasks``, else ``cfg.task_index``."""
    tasks = load_tasks(cfg.tasks)
    if cfg.instruction is None:
        if not 0 <= cfg.task_index < len(tasks):
            raise ValueError(
                f"task_index={cfg.task_index} out of range: {cfg.tasks} has {len(tasks)}"
            )
        return tasks[cfg.task_index]
    wanted = " ".join(str(cfg.instruction).lower().split())
    for task in tasks:
        if task.instruction.lower() == wanted:
            return task
    raise ValueError(
        f"instruction {cfg.instruction!r} is not a task of {cfg.tasks!r}; until the SayCan "
        f"planner lands, vla-run takes instructions from a task suite (try tasks=... )"
    )


def run(cfg: DictConfig) -> dict:
    """Run the episode; returns the report dict (also written to ``output_dir``)."""
    task = pick_task(cfg)
    execute = planner_runner(cfg.planner)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = VLAEnv(task.scene, tasks=[task], image_size=cfg.image_size, render_size=cfg.render_size)
    policy = make_policy(str(cfg.policy), env)
    obs, _ = env.reset(seed=cfg.seed)
    plan = oracle_plan(task, env.world.snapshot())
    print(f"task: {task.instruction}\noracle plan: {plan}\npolicy: {cfg.policy}")
    frames, key_frames = [], []

    def on_step(observation, action):
        frames.append(compose_frame(env.render(), observation["images"]["wrist"]))

    def on_skill(result: SkillResult):
        key_frames.append(frames[-1])
        mark = "ok " if result.success else "FAIL"
        print(f"  [{mark}] {result.skill}  ({result.steps} steps)")

    start = time.perf_counter()
    results = execute(
        env, policy, task, obs, max_skills=cfg.max_skills, on_skill=on_skill, on_step=on_step
    )
    seconds = time.perf_counter() - start
    success = env.is_success()
    env.close()
    video = write_video(out / "episode.mp4", frames, fps=20)
    sheet = contact_sheet(key_frames or frames[-1:], out / "key_frames.png")
    report = {
        "task": task.instruction,
        "goal": [str(p) for p in task.goal],
        "seed": cfg.seed,
        "planner": cfg.planner,
        "policy": str(cfg.policy),
        "plan": plan,
        "skills": [{"skill": r.skill, "success": r.success, "steps": r.steps} for r in results],
        "success": success,
        "steps": sum(r.steps for r in results),
        "seconds": round(seconds, 2),
        "video": video.name,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(render_markdown(report, sheet.name))
    print(f"{'SUCCESS' if success else 'FAILURE'} in {report['steps']} steps, {seconds:.1f} s")
    print(f"wrote {video}, {out / 'report.md'}")
    return report


def render_markdown(report: dict, sheet: str) -> str:
    rows = "\n".join(
        f"| {i + 1} | {s['skill']} | {'yes' if s['success'] else 'no'} | {s['steps']} |"
        for i, s in enumerate(report["skills"])
    )
    return (
        f"# {report['task']}\n\n"
        f"- goal: `{', '.join(report['goal'])}`\n- seed: {report['seed']}\n"
        f"- planner: {report['planner']}, policy: {report['policy']}\n"
        f"- result: **{'success' if report['success'] else 'failure'}** "
        f"in {report['steps']} control steps ({report['seconds']} s)\n\n"
        f"| # | skill | succeeded | steps |\n|---|---|---|---|\n{rows}\n\n"
        f"Video: [{report['video']}]({report['video']})\n\n"
        f"![frame at the end of each skill]({sheet})\n"
    )


@hydra.main(config_path="../../configs", config_name="run", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-run", run, cfg)


if __name__ == "__main__":
    main()
