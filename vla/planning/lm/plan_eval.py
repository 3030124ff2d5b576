"""Plan success of a scorer-driven SayCan planner, executed symbolically.

Each task runs :class:`planners.SayCanPlanner` (constant affordance unless given) against the
strict symbolic executor :func:`sim.tasks.apply_skill` (an infeasible skill fails and leaves
the state unchanged). A task succeeds when the planner says ``done`` and every goal holds.

    python -m vla.planning.lm.plan_eval --lm vla/assets/saycan_lm --split held_out --per-family 20
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence

from planners import PlanResult, SayCanPlanner, make_scorer
from sim.tasks import TaskSpec, all_hold, apply_skill, symbolic_world
from vla.planning.lm import BUNDLED_LM
from vla.planning.lm.corpus import SPLITS, generate_tasks, scene_of

DEFAULT_MAX_SKILLS = 16


def run_task(planner: SayCanPlanner, task: TaskSpec) -> tuple[bool, PlanResult]:
    """Plan and execute ``task`` symbolically; (success, the planner's record)."""
    state = symbolic_world(task)

    def execute(skill: str) -> bool:
        nonlocal state
        try:
            state = apply_skill(state, skill)
        except ValueError:
            return False
        return True

    result = planner.plan(task.instruction, scene_of(task, state), execute)
    return result.finished and all_hold(task.goal, state), result


def plan_success(planner: SayCanPlanner, tasks: Sequence[TaskSpec]) -> dict[str, float]:
    """Success rate per task family, plus ``"all"`` over every task."""
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for task in tasks:
        success, _ = run_task(planner, task)
        outcomes[task.family or "unlabelled"].append(success)
        outcomes["all"].append(success)
    return {family: sum(v) / len(v) for family, v in outcomes.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lm", default=str(BUNDLED_LM), help="local HF causal LM folder")
    parser.add_argument("--split", choices=SPLITS, default="held_out")
    parser.add_argument("--per-family", type=int, default=20, help="tasks per family")
    parser.add_argument("--seed", type=int, default=1, help="task seed (training used 0)")
    parser.add_argument("--reduction", choices=("sum", "mean"), default="sum")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    scorer = make_scorer("hf", model=args.lm, reduction=args.reduction)
    planner = SayCanPlanner(scorer, max_skills=DEFAULT_MAX_SKILLS)
    tasks = generate_tasks(args.split, args.per_family, seed=args.seed)
    for family, rate in plan_success(planner, tasks).items():
        print(f"{args.split:9s} {family:13s} {rate:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
