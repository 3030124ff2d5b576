"""Plan success of a scorer-driven SayCan planner, executed symbolically, per split.

Each task runs :class:`planners.SayCanPlanner` (constant affordance: the scorer alone)
against the strict symbolic executor :func:`sim.tasks.apply_skill` (an infeasible skill fails
and leaves the state unchanged), with the scene feedback after every skill when the scorer
was trained with it (a Say checkpoint; ``--feedback`` / ``--no-feedback`` overrides). A
task succeeds when the planner says ``done`` and every goal holds; it may run the oracle
plan's length plus 3 skills, as in ``vla-eval``. Splits
(:mod:`vla.planning.splits`): trained wordings, held-out wordings, held-out constructions.

    python -m vla.planning.lm.plan_eval                          # the bundled LM, test seeds
    python -m vla.planning.lm.plan_eval --seed 2000000           # validation seeds
    python -m vla.planning.lm.plan_eval --lm vla/assets/say_minilm   # the MiniLM Say
    python -m vla.planning.lm.plan_eval --no-ground-words        # the LM without MiniLM's words
    python -m vla.planning.lm.plan_eval --no-ground-sentences    # ... without trained sentences
    python -m vla.planning.lm.plan_eval --average-readings       # both readings, scores averaged
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Sequence

from planners import PlanResult, SayCanPlanner
from sim.rollout import PLAN_SLACK
from sim.tasks import TaskSpec, all_hold, apply_skill, oracle_plan, symbolic_world
from sim.tasks.describe import scene_facts
from vla.planning.lm.corpus import scene_of
from vla.planning.saycan_runner import _scorer, wants_feedback
from vla.planning.splits import SPLITS, generate_tasks

TEST_SEED = 1_000_000
SPLIT_NAMES = {
    "train": "trained wordings",
    "held_out": "held-out wordings",
    "held_out_constructions": "held-out constructions",
}


def run_task(
    planner: SayCanPlanner, task: TaskSpec, feedback: bool = True
) -> tuple[bool, PlanResult]:
    """Plan and execute ``task`` symbolically; (success, the planner's record)."""
    state = symbolic_world(task)

    def execute(skill: str) -> bool:
        nonlocal state
        try:
            state = apply_skill(state, skill)
        except ValueError:
            return False
        return True

    def observe_facts() -> tuple[str, ...]:
        return scene_facts(state)

    planner.max_skills = task.max_skills or len(oracle_plan(task, state)) + PLAN_SLACK
    scene = scene_of(task, state)
    result = planner.plan(
        task.instruction, scene, execute, observe_facts=observe_facts if feedback else None
    )
    return result.finished and all_hold(task.goal, state), result


def plan_success(
    planner: SayCanPlanner,
    tasks: Sequence[TaskSpec],
    feedback: bool = True,
    group: Callable[[str], str] = lambda family: family.split(".")[0],
) -> dict[str, float]:
    """Success rate per task family (``group`` of its label), plus ``"all"``."""
    outcomes: dict[str, list[bool]] = defaultdict(list)
    for task in tasks:
        success, _ = run_task(planner, task, feedback)
        outcomes[group(task.family or "unlabelled")].append(success)
        outcomes["all"].append(success)
    return {family: sum(v) / len(v) for family, v in outcomes.items()}


def make_planner(
    lm: str | None,
    reduction: str = "sum",
    ground_words: bool | None = None,
    ground_sentences: bool | None = None,
    average_readings: bool = False,
) -> SayCanPlanner:
    """A planner with the constant affordance and the scorer ``planner.lm`` would pick."""
    return SayCanPlanner(_scorer(lm, reduction, ground_words, ground_sentences, average_readings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lm", default=None, help="Say or causal LM folder; default: bundled LM")
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all")
    parser.add_argument("--per-family", type=int, default=20, help="tasks per family/construction")
    parser.add_argument("--seed", type=int, default=TEST_SEED, help="task seed (train: < 1e6)")
    parser.add_argument("--reduction", choices=("sum", "mean"), default="sum")
    parser.add_argument(
        "--feedback", action=argparse.BooleanOptionalAction, help="default: as trained"
    )
    parser.add_argument(
        "--ground-words",
        action=argparse.BooleanOptionalAction,
        help="MiniLM grounding of unseen words; default: when the LM has words.txt",
    )
    parser.add_argument(
        "--ground-sentences",
        action=argparse.BooleanOptionalAction,
        help="read as the closest trained instruction; default: when the LM has them",
    )
    parser.add_argument(
        "--average-readings",
        action="store_true",
        help="read such an instruction both ways and average the scores",
    )
    parser.add_argument("--by-construction", action="store_true", help="language per construction")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    planner = make_planner(
        args.lm, args.reduction, args.ground_words, args.ground_sentences, args.average_readings
    )
    group = (lambda f: f) if args.by_construction else (lambda f: f.split(".")[0])
    totals = {}
    for split in SPLITS if args.split == "all" else (args.split,):
        tasks = generate_tasks(split, args.per_family, seed=args.seed)
        rates = plan_success(planner, tasks, wants_feedback(args.lm, args.feedback), group)
        for family, rate in sorted(rates.items()):
            print(f"{split:22s} {family:28s} {rate:.3f}")
        families = [r for f, r in rates.items() if f != "all" and "." not in f]
        totals[split] = (rates["all"], len(tasks), sum(families) / max(1, len(families)))
    print(f"plan success, task seed {args.seed} (all tasks; mean over families):")
    for split, (rate, count, mean) in totals.items():
        print(f"  {SPLIT_NAMES[split]:23s} {rate:.1%} of {count} tasks; {mean:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
