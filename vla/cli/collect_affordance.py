"""``vla-collect-affordance``: label skills from diverse states for the learned affordance.

    OMP_NUM_THREADS=1 vla-collect-affordance output_dir=data/affordance episodes=150
    vla-collect-affordance output_dir=/tmp/aff policy=expert episodes=2

Episode ``i`` uses seed ``seed_start + i`` (training seeds only). Shards are written
atomically every ``shard_episodes`` episodes and when the run stops; rerunning the same
command skips the seeds already in ``output_dir`` and appends new shards (a larger
``episodes`` extends the dataset). Only the parent process writes; workers label
(:mod:`vla.planning.affordance.collect`). Options:
:class:`vla.planning.affordance.collect.CollectConfig`; ``policy`` is a registered name, a
checkpoint folder, a ``ws://`` URL or ``expert``. Bad input ends in one line, exit code 2.
"""

from vla.cli.app import hydra_app
from vla.planning.affordance.collect import CollectConfig, collect_dataset

main = hydra_app(
    "vla-collect-affordance",
    "collect_affordance",
    CollectConfig,
    collect_dataset,
    "finished episodes are saved, rerun to resume",
)

if __name__ == "__main__":
    main()
