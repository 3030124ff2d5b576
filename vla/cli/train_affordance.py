"""``vla-train-affordance``: train the learned affordance (SayCan's value function).

vla-train-affordance data_dir=data/affordance output_dir=vla/assets/affordance

Options: :class:`vla.planning.affordance.train.AffordanceTrainConfig`; ``command`` (for the
model card) defaults to this command line. Bad input ends in one line, exit code 2.
"""

import dataclasses
import sys

from vla.cli.app import hydra_app
from vla.planning.affordance.train import AffordanceTrainConfig, train_affordance


def train(cfg: AffordanceTrainConfig) -> None:
    command = cfg.command or " ".join(["vla-train-affordance", *sys.argv[1:]])
    train_affordance(dataclasses.replace(cfg, command=command))


main = hydra_app("vla-train-affordance", "train_affordance", AffordanceTrainConfig, train)

if __name__ == "__main__":
    main()
