"""One evaluation episode: reset a task from a seed, plan, execute with a policy, check the goal.

The plan runners (``planner=none | oracle | saycan``) live in :mod:`vla.planning.runners`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from sim.rollout import FrameHook, SkillResult
from sim.tasks import TaskSpec
from vla.planning.runners import PlanRunner, planner_runner


def make_policy(name: str, env=None, policy_filter: Any = None):
    """``expert`` (the scripted expert of ``env``; privileged), else ``load_policy(name)``;
    wrapped in the hand-written action filter ``policy_filter`` names (:mod:`vla.filters`:
    a name, or a mapping with ``name`` and its options), if any."""
    if policy_filter:
        from vla.filters import wrap_policy

        options = {"name": policy_filter} if isinstance(policy_filter, str) else policy_filter
        options = dict(options)
        return wrap_policy(make_policy(name, env), options.pop("name", None), **options)
    if name == "expert":
        from sim.expert import ScriptedExpert

        if env is None:
            raise ValueError("policy=expert needs the env it reads privileged state from")
        return ScriptedExpert(env)
    from vla.policies import load_policy

    return load_policy(name)


@dataclass
class EpisodeResult:
    """One row of ``eval_info.json``'s ``per_episode``."""

    index: int
    task: str
    family: str
    seed: int
    success: bool
    skills: list[dict] = field(default_factory=list)  # {"skill", "success", "steps"}
    steps: int = 0
    seconds: float = 0.0
    video: str | None = None
    plan_success: bool | None = None  # saycan: the same plan executed by the expert succeeds
    plan: list[dict] = field(default_factory=list)  # saycan: each step's top candidates

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def run_episode(
    env,
    policy,
    task: TaskSpec,
    seed: int,
    planner: str = "none",
    index: int = 0,
    on_step: FrameHook | None = None,
    planner_options: Any = None,
) -> EpisodeResult:
    """Reset ``env`` to ``task`` at ``seed`` and run it with ``planner`` and ``policy``."""
    run = planner_runner(planner)  # unknown planner: fail before the reset
    start = time.perf_counter()
    observation, _ = env.reset(seed=seed, options={"task": task})
    results, plan = run_planned(env, policy, task, observation, run, on_step, planner_options)
    return EpisodeResult(
        index=index,
        task=task.instruction,
        family=task.family or "",
        seed=seed,
        success=bool(env.is_success()),
        skills=skill_rows(results),
        steps=sum(r.steps for r in results),
        seconds=round(time.perf_counter() - start, 3),
        plan=plan,
    )


def run_planned(
    env,
    policy,
    task: TaskSpec,
    observation: dict,
    run: PlanRunner,
    on_step: FrameHook | None = None,
    planner_options: Any = None,
) -> tuple[list[SkillResult], list[dict]]:
    """Run ``task`` from the env's current state with plan runner ``run``: (the skills'
    results, the planner's steps as JSON rows; empty for planners that record none)."""
    choices: list = []
    results = run(
        env,
        policy,
        task,
        observation,
        on_step=on_step,
        on_choice=choices.append,
        planner_options=planner_options,
    )
    return results, [plan_step_dict(c) for c in choices]


def skill_rows(results: list[SkillResult]) -> list[dict]:
    """``{"skill", "success", "steps"}`` per skill run, for JSON reports."""
    return [{"skill": r.skill, "success": r.success, "steps": r.steps} for r in results]


def plan_step_dict(record: Any) -> dict[str, Any]:
    """A planner step (``planners.StepRecord``) without its prompt, for JSON reports."""
    row = asdict(record)
    row.pop("prompt", None)
    return row
