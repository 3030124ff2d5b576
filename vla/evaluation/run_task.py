"""One instruction carried out in PyBullet with a video and a report (``vla-run``).

The planner (SayCan by default: bundled LM x learned affordance) chooses the skills, the
policy (the bundled RT-1 by default) executes each, and the plan is printed with its scores
as it goes. Writes ``episode.mp4``, ``report.md``/``report.json`` and ``key_frames.png``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from sim.env import VLAEnv
from sim.rollout import SkillResult
from sim.tasks.oracle import oracle_plan
from vla.evaluation.config import RunConfig
from vla.evaluation.episode import make_policy, plan_step_dict, skill_rows
from vla.evaluation.freeform import instruction_task
from vla.evaluation.report import plan_table
from vla.planning.config import SayCanOptions
from vla.planning.runners import planner_runner
from vla.planning.saycan_runner import closest_instruction, read_instruction
from vla.video import compose_frame, contact_sheet, write_video

FREE_TEXT_MAX_SKILLS = 16


def print_choice(record) -> None:
    """One planner step as it is chosen: the skill and the top candidates' scores."""
    top = ", ".join(f"{c.skill} {c.say:.2f}x{c.can:.2f}" for c in record.top[:3])
    print(f"  step {record.index + 1}: {record.chosen}   [say x can: {top}]", flush=True)


def run_task(cfg: RunConfig) -> dict:
    """Run the episode; returns the report dict (also written to ``output_dir``)."""
    planner, options = cfg.planner.name, cfg.planner.options()
    saycan = SayCanOptions.from_mapping(options) if planner == "saycan" else None
    closest = closest_instruction(saycan) if saycan and cfg.instruction else None
    chosen = instruction_task(cfg.instruction, cfg.tasks, cfg.task_index, planner, closest)
    task, goal_known = chosen.task, chosen.goal_known
    execute = planner_runner(planner)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = VLAEnv(task.scene, tasks=[task], image_size=cfg.image_size, render_size=cfg.render_size)
    policy = make_policy(str(cfg.policy), env)
    obs, _ = env.reset(seed=cfg.seed)
    plan = oracle_plan(task, env.world.snapshot()) if goal_known else []
    print(f"task: {task.instruction}\n{chosen.message or 'scene: ' + ', '.join(task.all_objects)}")
    print(f"oracle plan: {plan}" if goal_known else "goal: unknown (free-form instruction)")
    print(f"planner: {planner} {options or ''}\npolicy: {cfg.policy}")
    if saycan is not None:
        read = read_instruction(saycan, task.instruction)
        if read != [task.instruction]:
            print(f"the Say reads: {' | '.join(read)}  (planner.ground_words, ground_sentences)")
    # the scene as it starts: a video and key frames even when the planner says done at once
    frames = [compose_frame(env.render(), obs["images"]["wrist"])]
    key_frames, choices = [], []

    def on_step(observation, action):
        frames.append(compose_frame(env.render(), observation["images"]["wrist"]))

    def on_skill(result: SkillResult):
        key_frames.append(frames[-1])
        mark = "ok " if result.success else "FAIL"
        print(f"  [{mark}] {result.skill}  ({result.steps} steps)")

    start = time.perf_counter()

    def on_choice(record):
        choices.append(record)
        print_choice(record)

    max_skills = cfg.max_skills or (None if goal_known else FREE_TEXT_MAX_SKILLS)
    results = execute(
        env,
        policy,
        task,
        obs,
        max_skills=max_skills,
        on_skill=on_skill,
        on_step=on_step,
        on_choice=on_choice,
        planner_options=options,
    )
    seconds = time.perf_counter() - start
    said_done = bool(choices) and choices[-1].chosen == "done"
    success = env.is_success() if goal_known else None
    env.close()
    video = write_video(out / "episode.mp4", frames, fps=20)
    sheet = contact_sheet(key_frames or frames[-1:], out / "key_frames.png")
    report = {
        "task": task.instruction,
        "goal": [str(p) for p in task.goal],
        "goal_read_as": chosen.read_as,
        "seed": cfg.seed,
        "planner": planner,
        "planner_options": options,
        "policy": str(cfg.policy),
        "plan": plan,
        "saycan_plan": [plan_step_dict(c) for c in choices],
        "planner_said_done": said_done,
        "skills": skill_rows(results),
        "success": success,
        "steps": sum(r.steps for r in results),
        "seconds": round(seconds, 2),
        "video": video.name,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(render_markdown(report, sheet.name))
    verdict = {True: "SUCCESS", False: "FAILURE", None: f"GOAL UNKNOWN (done={said_done})"}
    print(f"{verdict[success]} in {report['steps']} steps, {seconds:.1f} s")
    print(f"wrote {video}, {out / 'report.md'}")
    return report


def render_markdown(report: dict, sheet: str) -> str:
    rows = "\n".join(
        f"| {i + 1} | {s['skill']} | {'yes' if s['success'] else 'no'} | {s['steps']} |"
        for i, s in enumerate(report["skills"])
    )
    verdict = {True: "success", False: "failure", None: "goal unknown"}[report["success"]]
    scores, goal = "", f"`{', '.join(report['goal']) or 'unknown'}`"
    if report["goal_read_as"]:
        goal += f' (read as that of the closest trained instruction, "{report["goal_read_as"]}")'
    if report["saycan_plan"]:
        scores = f"## SayCan steps (say x can = score)\n\n{plan_table(report['saycan_plan'])}\n\n"
    return (
        f"# {report['task']}\n\n"
        f"- goal: {goal}\n- seed: {report['seed']}\n"
        f"- planner: {report['planner']} {report['planner_options'] or ''}, "
        f"policy: {report['policy']}\n"
        f"- result: **{verdict}** (planner said done: {report['planner_said_done']}) "
        f"in {report['steps']} control steps ({report['seconds']} s)\n\n"
        f"| # | skill | succeeded | steps |\n|---|---|---|---|\n{rows}\n\n{scores}"
        f"Video: [{report['video']}]({report['video']})\n\n"
        f"![frame at the end of each skill]({sheet})\n"
    )
