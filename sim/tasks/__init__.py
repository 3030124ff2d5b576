"""Task specs, goal predicates, the oracle planner and the built-in task suites (no physics)."""

from sim.tasks.oracle import oracle_next_skill, oracle_plan
from sim.tasks.predicates import Predicate, all_hold, evaluate, parse_predicate
from sim.tasks.spec import (
    BUILTIN_SUITES,
    TaskSpec,
    dump_tasks,
    load_tasks,
    parse_tasks,
    parse_tasks_yaml,
)
from sim.tasks.symbolic import apply_skill, is_feasible, symbolic_world

__all__ = [
    "BUILTIN_SUITES",
    "Predicate",
    "TaskSpec",
    "all_hold",
    "apply_skill",
    "dump_tasks",
    "evaluate",
    "is_feasible",
    "load_tasks",
    "oracle_next_skill",
    "oracle_plan",
    "parse_predicate",
    "parse_tasks",
    "parse_tasks_yaml",
    "symbolic_world",
]
