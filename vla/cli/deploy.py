"""``vla-deploy``: run a policy on a robot (simulator or real arm) at a fixed control rate.

vla-deploy                                               # bundled RT-1 on the simulator
vla-deploy policy=ws://gpu-box:8765 robot.safety=true    # model on a vla-serve server
vla-deploy planner=oracle robot.tasks=long_horizon       # plan runners need robot=pybullet
vla-deploy robot=xarm robot.ip=192.168.1.185 instruction="pick up the red block"

At the end (or on Ctrl-C, after the robot holds) it prints the achieved rate, latency
percentiles and safety counts and writes them to ``output_dir/deploy_report.json``
(:mod:`vla.robot.deploy`). Options: :class:`vla.robot.config.DeployConfig`; ``policy`` is
a registered name, a checkpoint folder or the ``ws://host:port`` of a ``vla-serve`` server.
Bad input ends in one line with exit code 2.
"""

from vla.cli.app import hydra_app
from vla.robot.config import DeployConfig
from vla.robot.deploy import deploy

main = hydra_app("vla-deploy", "deploy", DeployConfig, deploy, "robot held and disconnected")

if __name__ == "__main__":
    main()
