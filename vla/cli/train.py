"""``vla-train``: train the RT-1 policy on a recorded dataset (see configs/train.yaml).

vla-train data=data/demos output_dir=outputs/rt1 steps=20000
vla-train data=data/demos output_dir=outputs/rt1 resume=true
torchrun --nproc-per-node 2 -m vla.cli.train data=data/demos output_dir=outputs/rt1
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from vla.train import train


@hydra.main(config_path="../../configs", config_name="train", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        train(cfg)
    except ValueError as error:  # bad input: one line, no traceback
        raise SystemExit(f"vla-train: error: {error}") from None
    except KeyboardInterrupt:
        print("vla-train: interrupted; rerun with resume=true to continue", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
