"""``vla-run``: carry out one long-horizon instruction in PyBullet, write a video and report.

SayCan plans (bundled LM x learned affordance by default), the bundled RT-1 executes each
skill, and the plan is printed with its scores as it goes (:mod:`vla.evaluation.run_task`).

vla-run                                   # default: first long_horizon task
vla-run tasks=mobile task_index=3 output_dir=outputs/mobile
vla-run instruction="put the red block on the blue block"   # any wording, scene of task_index
vla-run planner=oracle policy=expert      # the oracle plan carried out by the scripted expert
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.evaluation.run_task import run_task


@hydra.main(config_path="../../configs", config_name="run", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-run", run_task, cfg)


if __name__ == "__main__":
    main()
