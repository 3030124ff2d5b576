"""``vla-collect-affordance``: label skills from diverse states for the learned affordance.

    OMP_NUM_THREADS=1 vla-collect-affordance output_dir=data/affordance episodes=150
    vla-collect-affordance output_dir=/tmp/aff policy=expert episodes=2

Episode ``i`` uses seed ``seed_start + i`` (training seeds only). Shards are written
atomically every ``shard_episodes`` episodes and when the run stops; rerunning the same
command skips the seeds already in ``output_dir`` and appends new shards (a larger
``episodes`` extends the dataset). Only the parent process writes; workers label
(:mod:`vla.planning.affordance.collect`).
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.planning.affordance.collect import collect_dataset


@hydra.main(config_path="../../configs", config_name="collect_affordance", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app(
        "vla-collect-affordance",
        collect_dataset,
        cfg,
        on_interrupt="finished episodes are saved, rerun to resume",
    )


if __name__ == "__main__":
    main()
