"""Running skills and plans in an env with any policy (``reset`` + ``select_action``).

A skill ends when the policy emits the terminate mode or after ``max_steps`` control
steps; its success is the simulator's check for that skill (:mod:`sim.skills`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.contract import MODE_INDEX, TERMINATE
from sim.skills import make_skill
from sim.tasks.oracle import oracle_next_skill, oracle_plan

SKILL_MAX_STEPS = 150
PLAN_SLACK = 3  # skills allowed beyond the oracle's plan, for retries after failures
FrameHook = Callable[[dict, np.ndarray], None]


@dataclass
class SkillResult:
    """Outcome of one skill: success, control steps used, and the last observation."""

    skill: str
    success: bool
    steps: int
    observation: dict = field(repr=False, default_factory=dict)


def run_policy(
    env,
    policy,
    instruction: str,
    observation: dict,
    max_steps: int = SKILL_MAX_STEPS,
    on_step: FrameHook | None = None,
) -> tuple[int, dict]:
    """Condition ``policy`` on ``instruction`` and step ``env`` until it emits the terminate
    mode or ``max_steps`` pass; returns (control steps used, last observation)."""
    policy.reset()
    steps = 0
    for steps in range(1, max_steps + 1):  # noqa: B007  (steps is read after the loop)
        observation = {**observation, "instruction": instruction}
        action = np.asarray(policy.select_action(observation), dtype=np.float32)
        if on_step is not None:
            on_step(observation, action)
        if int(np.rint(action[MODE_INDEX])) == TERMINATE:
            break
        observation, _, _, _, _ = env.step(action)
    return steps, observation


def run_skill(
    env,
    policy,
    skill: str,
    observation: dict,
    max_steps: int = SKILL_MAX_STEPS,
    on_step: FrameHook | None = None,
) -> SkillResult:
    """Run ``skill`` with :func:`run_policy`; success is the skill's own simulator check."""
    check = make_skill(skill)
    steps, observation = run_policy(env, policy, skill, observation, max_steps, on_step)
    success = check.success(env.unwrapped.world.snapshot())
    return SkillResult(skill, success, steps, observation)


def run_plan(env, policy, skills: list[str], observation: dict, **kwargs) -> list[SkillResult]:
    """Run ``skills`` in order (stopping at ``done``); the env's goal is checked by the caller."""
    results = []
    for skill in skills:
        if skill == "done":
            break
        result = run_skill(env, policy, skill, observation, **kwargs)
        observation = result.observation
        results.append(result)
    return results


def run_task(
    env,
    policy,
    next_skill: Callable[[object], str],
    observation: dict,
    max_skills: int,
    on_skill: Callable[[SkillResult], None] | None = None,
    **kwargs,
) -> list[SkillResult]:
    """Closed loop: ask ``next_skill(world_state)`` for a skill, run it, repeat until ``done``.

    ``next_skill`` sees the state after the last skill really ran, so a failed skill is
    retried or replaced; if it cannot plan from that state (ValueError, e.g. a block knocked
    off every table) the loop ends there. At most ``max_skills`` skills run.
    """
    results: list[SkillResult] = []
    for _ in range(max_skills):
        try:
            skill = next_skill(env.unwrapped.world.snapshot())
        except ValueError:
            if not results:  # the task itself cannot be planned: a bad task spec
                raise
            break  # the policy left a state nothing can be planned from: the episode fails
        if skill == "done":
            break
        result = run_skill(env, policy, skill, observation, **kwargs)
        observation = result.observation
        results.append(result)
        if on_skill is not None:
            on_skill(result)
    return results


def run_oracle_task(
    env, policy, task, observation: dict, max_skills: int | None = None, **kwargs
) -> list[SkillResult]:
    """:func:`run_task` with the oracle planner choosing each next skill of ``task``.

    ``max_skills`` defaults to the task's own cap, else the length of the oracle's plan
    from the current state plus ``PLAN_SLACK``.
    """
    if max_skills is None:
        plan = oracle_plan(task, env.unwrapped.world.snapshot())
        max_skills = task.max_skills or len(plan) + PLAN_SLACK
    return run_task(
        env, policy, lambda state: oracle_next_skill(task, state), observation, max_skills, **kwargs
    )
