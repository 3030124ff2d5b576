"""``vla-record-scenes``: localisation scenes for co-training RT-1's goal head (resumable).

    vla-record-scenes output_dir=data/scenes n_scenes=40000 num_workers=2

Each scene is one reset and one render of a random single-skill tabletop task, labelled
with the hand's offset to where the skill will grasp or release (:mod:`vla.policies.rt1.scenes`).
Shards are written atomically by this process only; rerunning resumes.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.policies.rt1.scenes import record_scenes


@hydra.main(config_path="../../configs", config_name="record_scenes", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-record-scenes", record_scenes, cfg, "finished shards are safe, rerun to resume")


if __name__ == "__main__":
    main()
