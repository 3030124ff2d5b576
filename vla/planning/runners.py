"""The plan runners of ``planner=<name>`` (``vla-eval``, ``vla-run``, ``vla-deploy``).

``none`` gives the task instruction to the policy as is (for single-skill tasks);
``oracle`` feeds the oracle planner's skills one by one, re-planning from the real state
after each (so it measures execution given a perfect plan); ``saycan``
(:mod:`vla.planning.saycan_runner`) chooses each skill by LM likelihood x affordance.

A plan runner is ``fn(env, policy, task, observation, on_step=None, on_skill=None,
on_choice=None, max_skills=None, planner_options=None) -> [SkillResult]``; a runner ignores
the hooks and options it has no use for. A new one registers with ``@register_planner``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.registry import Registry
from sim.rollout import FrameHook, SkillResult, run_oracle_task, run_policy
from sim.tasks import TaskSpec
from vla.planning.saycan_runner import run_saycan

PlanRunner = Callable[..., list[SkillResult]]
PLANNERS: Registry[PlanRunner] = Registry("planner")


def register_planner(name: str) -> Callable[[PlanRunner], PlanRunner]:
    """Decorator: ``fn(env, policy, task, observation, on_step=...) -> [SkillResult]``."""
    return PLANNERS.register(name)


def planner_runner(name: str) -> PlanRunner:
    """The registered planner ``name``; ValueError (one line) naming the choices."""
    return PLANNERS.get(name)


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


register_planner("saycan")(run_saycan)
