"""Everything that runs SayCan in our world: the plan runners of ``planner=none | oracle |
saycan`` (:mod:`vla.planning.runners`), the SayCan wiring (:mod:`vla.planning.saycan_runner`),
the oracle affordance, the learned affordance (:mod:`vla.planning.affordance`) and the
planning LM's corpus and trainer (:mod:`vla.planning.lm`)."""

from vla.planning.config import PlannerConfig, SayCanOptions
from vla.planning.oracle_affordance import OracleAffordance
from vla.planning.runners import PLANNERS, planner_runner, register_planner
from vla.planning.saycan_runner import build_planner, run_saycan

__all__ = [
    "PLANNERS",
    "OracleAffordance",
    "PlannerConfig",
    "SayCanOptions",
    "build_planner",
    "planner_runner",
    "register_planner",
    "run_saycan",
]
