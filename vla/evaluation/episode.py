"""One evaluation episode: reset a task from a seed, plan, execute with a policy, check the goal.

Planners (a registry): ``none`` gives the task instruction to the policy as is (for
single-skill tasks); ``oracle`` feeds the oracle planner's skills one by one, re-planning
from the real state after each (so it measures execution given a perfect plan); ``saycan``
(:mod:`vla.planning.saycan_runner`) chooses each skill by LM likelihood x affordance.

A plan runner is ``fn(env, policy, task, observation, on_step=None, on_skill=None,
on_choice=None, max_skills=None, planner_options=None) -> [SkillResult]``; a runner ignores
the hooks and options it has no use for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sim.rollout import FrameHook, SkillResult, run_oracle_task, run_policy
from sim.tasks import TaskSpec

PlanRunner = Callable[..., list[SkillResult]]
PLANNERS: dict[str, PlanRunner] = {}


def register_planner(name: str) -> Callable[[PlanRunner], PlanRunner]:
    """Decorator: ``fn(env, policy, task, observation, on_step=...) -> [SkillResult]``."""

    def decorator(fn: PlanRunner) -> PlanRunner:
        PLANNERS[name] = fn
        return fn

    return decorator


@register_planner("none")
def run_instruction(
    env,
    policy,
    task: TaskSpec,
    observation: dict,
    on_step: FrameHook | None = None,
    on_skill: Callable[[SkillResult], None] | None = None,
    **_: Any,
) -> list[SkillResult]:
    """The instruction goes to the policy verbatim until it terminates (or the step cap);
    success is the task's goal."""
    steps, observation = run_policy(env, policy, task.instruction, observation, on_step=on_step)
    result = SkillResult(task.instruction, bool(env.is_success()), steps, observation)
    if on_skill is not None:
        on_skill(result)
    return [result]


@register_planner("oracle")
def run_oracle(
    env,
    policy,
    task: TaskSpec,
    observation: dict,
    on_step: FrameHook | None = None,
    on_skill: Callable[[SkillResult], None] | None = None,
    max_skills: int | None = None,
    **_: Any,
) -> list[SkillResult]:
    """The oracle plan's skills, each chosen from the state the last one really left."""
    return run_oracle_task(
        env, policy, task, observation, max_skills, on_skill=on_skill, on_step=on_step
    )


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


def planner_runner(name: str) -> PlanRunner:
    """The registered planner ``name``; ValueError (one line) naming the choices."""
    import vla.planning  # noqa: F401  (registers "saycan"; it imports this module)

    if name not in PLANNERS:
        raise ValueError(f"unknown planner {name!r}; choose one of {sorted(PLANNERS)}")
    return PLANNERS[name]


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
