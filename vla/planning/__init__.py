"""SayCan wired to the simulator: the oracle affordance, planner construction from config,
and the ``saycan`` plan runner of ``vla-eval`` / ``vla-run``."""

from vla.planning.oracle_affordance import OracleAffordance
from vla.planning.saycan_runner import SayCanOptions, build_planner, run_saycan

__all__ = ["OracleAffordance", "SayCanOptions", "build_planner", "run_saycan"]
