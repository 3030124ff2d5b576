"""``vla-train``: train the RT-1 policy on a recorded dataset (see configs/train.yaml).

vla-train data=data/demos output_dir=outputs/rt1 steps=20000
vla-train data=data/demos output_dir=outputs/rt1 resume=true
torchrun --nproc-per-node 2 -m vla.cli.train data=data/demos output_dir=outputs/rt1
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.training.loop import train


@hydra.main(config_path="../../configs", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-train", train, cfg, on_interrupt="rerun with resume=true to continue")


if __name__ == "__main__":
    main()
