"""``vla-eval``: success of a policy (and planner) on a task suite; writes eval_info.json.

vla-eval tasks=single planner=none
vla-eval tasks=structured planner=oracle num_workers=2 output_dir=outputs/eval_structured
vla-eval tasks=long_horizon planner=saycan planner.affordance=oracle
vla-eval planner=saycan mode=chain n_chains=20

In a ``-m`` sweep each job writes to its own folder under ``output_dir`` (named by the
swept settings); see :mod:`vla.evaluation.suite` for the job itself.
"""

from __future__ import annotations

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.evaluation.suite import evaluate_suite


def output_dir(cfg: DictConfig) -> str:
    """``output_dir``, or this job's own folder under it in a ``-m`` sweep."""
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        return HydraConfig.get().runtime.output_dir
    return str(cfg.output_dir)


@hydra.main(config_path="../../configs", config_name="eval", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-eval", lambda c: evaluate_suite(c, output_dir(c)), cfg)


if __name__ == "__main__":
    main()
