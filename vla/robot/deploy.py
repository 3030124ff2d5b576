"""``vla-deploy``'s job: a policy on a robot (simulator or real arm) at a fixed control rate.

The policy runs behind the robot's safety layer and the deadline guard of
:mod:`vla.robot.control_loop`; with ``planner=oracle`` or ``saycan`` a plan runner of
:mod:`vla.planning.runners` chooses the skills of the simulator task. At the end (or on
Ctrl-C, after the robot holds) it prints the achieved rate, latency percentiles and safety
counts and writes them to ``output_dir/deploy_report.json``. With ``record=true`` every
instruction the policy ran becomes an episode of a ``vla-episodes`` dataset
(:mod:`vla.robot.episode_recorder`): its observations and the actions the safety layer
sent, labelled by the simulator's goal check (``success=false`` on hardware, which has
none), keys ``deploy/<n>``; an interrupted run keeps its last episode, marked in ``meta``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim import seed_range
from sim.rollout import run_policy
from vla.data.episode_store import EpisodeStore
from vla.policies import load_policy
from vla.robot import make_robot
from vla.robot.base import Robot
from vla.robot.config import DeployConfig
from vla.robot.control_loop import ControlLoop, GuardedPolicy
from vla.robot.episode_recorder import RecordingPolicy


def build_robot(cfg: DeployConfig) -> Robot:
    """The backend ``cfg.robot`` names, with its options."""
    return make_robot(cfg.robot.name, **cfg.robot.options())


def build_policy(cfg: DeployConfig, period_s: float) -> tuple[Any, Any]:
    """(policy, action queue or None); remote policies time out after one period."""
    name = cfg.policy
    if not name.startswith(("ws://", "wss://")):
        return load_policy(name), None
    from vla.serve import ActionQueue

    timeout = cfg.remote.timeout_s or period_s
    policy = load_policy(name, timeout_s=timeout, api_key=cfg.remote.api_key)
    try:
        policy.connect()
    except (OSError, TimeoutError) as error:  # refused, unreachable, no answer
        reason = error.strerror or str(error) or type(error).__name__
        raise ValueError(f"policy={name}: cannot reach the server ({reason})") from None
    queue = ActionQueue(policy, chunk=cfg.remote.chunk) if cfg.remote.async_queue else None
    return policy, queue


SPLIT_OF_RANGE = {"train": "train", "test": "test", "validation": "val"}


def make_recorder(cfg: DeployConfig, loop: ControlLoop, policy: Any) -> RecordingPolicy:
    """The recording wrapper around ``policy`` for ``record=true``."""
    size = int(getattr(cfg.robot, "image_size", 64))
    folder = cfg.record_dir or str(Path(cfg.output_dir) / "episodes")
    store = EpisodeStore.open_or_create(folder, image_size=(size, size))
    seed = getattr(cfg.robot, "seed", None) if cfg.robot.name == "pybullet" else None
    fields = {
        "family": "deploy",
        "scene": str(getattr(cfg.robot, "scene", "")),
        "seed": seed,
        # a sim episode's split is its seed's range (the default seed is a test seed)
        "split": "train" if seed is None else SPLIT_OF_RANGE[seed_range(seed)],
        "meta": {"policy": cfg.policy, "robot": cfg.robot.name, "planner": cfg.planner.name},
    }
    return RecordingPolicy(policy, loop, store, "deploy", fields, loop.is_success)


def execute(cfg: DeployConfig, loop: ControlLoop, policy: GuardedPolicy) -> dict[str, Any]:
    """Run the instruction (planner none) or the sim task's plan (oracle, saycan)."""
    obs = loop.observe()
    planner = cfg.planner.name
    if planner == "none":
        instruction = cfg.instruction or obs["instruction"]
        if not instruction:
            raise ValueError('give instruction="..." (a real robot has no task to read it from)')
        steps, _ = run_policy(loop, policy, str(instruction), obs, max_steps=cfg.max_steps)
        return {"instruction": instruction, "skills": [], "steps": steps}
    from vla.evaluation.episode import skill_rows
    from vla.planning.runners import planner_runner

    runner = planner_runner(planner)
    task = loop.unwrapped.task
    if cfg.instruction and cfg.instruction != task.instruction:
        raise ValueError(
            f"planner={planner} plans the sim task ({task.instruction!r}): "
            "choose it with robot.tasks/robot.task_index, not instruction="
        )
    options = cfg.planner.options()
    results = runner(loop, policy, task, obs, max_skills=cfg.max_skills, planner_options=options)
    skills = skill_rows(results)
    return {
        "instruction": task.instruction,
        "skills": skills,
        "steps": sum(r.steps for r in results),
    }


def deploy(cfg: DeployConfig) -> dict[str, Any]:
    """Deploy as ``cfg`` says; returns the report."""
    robot = build_robot(cfg)
    loop = ControlLoop(robot, cfg.control_hz)
    policy, queue = build_policy(cfg, loop.period)
    guarded = GuardedPolicy(policy, robot, loop.period, queue)
    recorder = make_recorder(cfg, loop, guarded) if cfg.record else None
    report: dict[str, Any] = {
        "robot": robot.robot_name,
        "policy": cfg.policy,
        "planner": cfg.planner.name,
        "interrupted": False,
    }
    try:
        robot.connect()
        report.update(execute(cfg, loop, recorder or guarded))
        report["success"] = loop.is_success()
    except KeyboardInterrupt:
        report["interrupted"] = True
        raise
    finally:
        robot.hold()  # Ctrl-C or error: stop the arm and the base before anything else
        if recorder is not None:
            report["recorded"] = save_recording(recorder, report["interrupted"])
        finish(cfg, report, loop, guarded, robot)
        if queue is not None:
            queue.close()
    return report


def save_recording(recorder: RecordingPolicy, interrupted: bool) -> dict[str, Any]:
    """Write the last episode and close the dataset; where the episodes went."""
    if interrupted:
        recorder.fields["meta"] = {**recorder.fields["meta"], "interrupted": True}
    try:
        recorder.finish()
    finally:
        recorder.store.close()
    return {"dataset": str(recorder.store.path), "episode_ids": recorder.episode_ids}


def finish(
    cfg: DeployConfig, report: dict, loop: ControlLoop, guarded: GuardedPolicy, robot: Robot
) -> None:
    """Disconnect, then print and write the rate, latency and safety figures."""
    report.update(loop.report())
    report["missed_deadlines"] = guarded.misses
    report["safety"] = robot.safety_counts()
    robot.disconnect()
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "deploy_report.json").write_text(json.dumps(report, indent=2, default=str))
    lat = report["latency_ms"]
    print(
        f"{report['robot']} | policy={report['policy']} planner={report['planner']}: "
        f"{report['steps']} steps at {report['achieved_hz']} Hz (target {report['target_hz']}); "
        f"obs->action latency p50 {lat['p50']} / p90 {lat['p90']} / p99 {lat['p99']} ms; "
        f"missed deadlines {guarded.misses}"
    )
    print(f"safety: {report['safety']}; success: {report.get('success')}")
    print(f"wrote {out / 'deploy_report.json'}")
