"""Task specs, goal predicates, the oracle planner and the built-in task suites (no physics)."""

from sim.tasks.oracle import apply_skill, oracle_next_skill, oracle_plan, symbolic_world
from sim.tasks.predicates import Predicate, all_hold, evaluate, parse_predicate
from sim.tasks.spec import (
    BUILTIN_SUITES,
    TaskSpec,
    dump_tasks,
    load_tasks,
    parse_tasks,
    parse_tasks_yaml,
)

__all__ = [
    "BUILTIN_SUITES",
    "Predicate",
    "TaskSpec",
    "all_hold",
    "apply_skill",
    "dump_tasks",
    "evaluate",
    "load_tasks",
    "oracle_next_skill",
    "oracle_plan",
    "parse_predicate",
    "parse_tasks",
    "parse_tasks_yaml",
    "symbolic_world",
]
