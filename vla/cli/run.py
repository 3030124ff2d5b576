"""``vla-run``: carry out one long-horizon instruction in PyBullet, write a video and report.

SayCan plans (bundled LM x learned affordance by default), the bundled RT-1 executes each
skill, and the plan is printed with its scores as it goes (:mod:`vla.evaluation.run_task`).

vla-run                                   # default: first long_horizon task
vla-run tasks=mobile task_index=3 output_dir=outputs/mobile
vla-run instruction="put the red block on the blue block"   # any wording: a scene that fits it
vla-run planner=oracle policy=expert      # the oracle plan carried out by the scripted expert

Options: :class:`vla.evaluation.config.RunConfig`; ``policy`` is a registered name, a
checkpoint folder, a ``ws://`` URL or ``expert``. Bad input ends in one line, exit code 2.
"""

from vla.cli.app import hydra_app
from vla.evaluation.config import RunConfig
from vla.evaluation.run_task import run_task

main = hydra_app("vla-run", "run", RunConfig, run_task)

if __name__ == "__main__":
    main()
