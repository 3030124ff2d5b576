"""``vla-train-affordance``: train the learned affordance (see configs/train_affordance.yaml).

vla-train-affordance data_dir=data/affordance output_dir=vla/assets/affordance
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from vla.cli.errors import run_app
from vla.planning.affordance.train import AffordanceTrainConfig, train_affordance


def _train(cfg: DictConfig) -> None:
    fields = OmegaConf.to_container(cfg, resolve=True)
    fields.pop("hydra", None)
    fields["command"] = fields.get("command") or " ".join(["vla-train-affordance", *sys.argv[1:]])
    try:
        config = AffordanceTrainConfig(**fields)
    except TypeError as error:
        raise ValueError(f"bad option: {error}") from None
    train_affordance(config)


@hydra.main(config_path="../../configs", config_name="train_affordance", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-train-affordance", _train, cfg)


if __name__ == "__main__":
    main()
