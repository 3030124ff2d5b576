"""``vla-train-lm``: train the bundled SayCan LM (see configs/train_lm.yaml).

vla-train-lm output_dir=vla/assets/saycan_lm steps=1500
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig, OmegaConf

from vla.cli.errors import run_app
from vla.planning.lm.train_lm import LMTrainConfig, train_lm


def _train(cfg: DictConfig) -> None:
    fields = OmegaConf.to_container(cfg, resolve=True)
    fields.pop("hydra", None)
    try:
        config = LMTrainConfig(**fields)
    except TypeError as error:
        raise ValueError(f"bad option: {error}") from None
    print(train_lm(config))


@hydra.main(config_path="../../configs", config_name="train_lm", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-train-lm", _train, cfg)


if __name__ == "__main__":
    main()
