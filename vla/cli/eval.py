"""``vla-eval``: success of a policy (and planner) on a task suite; writes eval_info.json.

vla-eval tasks=single planner=none
vla-eval tasks=structured planner=oracle num_workers=2 output_dir=outputs/eval_structured
vla-eval tasks=long_horizon planner=saycan planner.affordance=oracle
vla-eval planner=saycan mode=chain n_chains=20
vla-eval -m tasks=structured planner=saycan planner.affordance=learned,oracle,constant

Options: :class:`vla.evaluation.config.EvalConfig` (``vla-eval --cfg job`` prints them);
``policy`` is a registered name, a checkpoint folder, a ``ws://`` URL or ``expert``. In a
``-m`` sweep each job writes to its own folder under ``output_dir``, named by the swept
settings. Bad input ends in one line with exit code 2.
"""

from vla.cli.app import hydra_app
from vla.evaluation.config import EvalConfig
from vla.evaluation.suite import evaluate_suite

main = hydra_app("vla-eval", "eval", EvalConfig, evaluate_suite)

if __name__ == "__main__":
    main()
