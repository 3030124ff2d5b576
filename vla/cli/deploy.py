"""``vla-deploy``: run a policy on a robot (simulator or real arm) at a fixed control rate.

vla-deploy                                               # bundled RT-1 on the simulator
vla-deploy policy=ws://gpu-box:8765 robot.safety=true    # model on a vla-serve server
vla-deploy planner=oracle robot.tasks=long_horizon
vla-deploy robot=xarm robot.ip=192.168.1.185 instruction="pick up the red block"

At the end (or on Ctrl-C, after the robot holds) it prints the achieved rate, latency
percentiles and safety counts and writes them to ``output_dir/deploy_report.json``
(:mod:`vla.robot.deploy`).
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.robot.deploy import deploy


@hydra.main(config_path="../../configs", config_name="deploy", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-deploy", deploy, cfg, on_interrupt="robot held and disconnected")


if __name__ == "__main__":
    main()
