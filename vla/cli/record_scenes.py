"""``vla-record-scenes``: localisation scenes for co-training RT-1's goal head (resumable).

    vla-record-scenes output_dir=data/scenes n_scenes=40000 num_workers=2

Each scene is one reset and one render of a random single-skill tabletop task, labelled
with the hand's offset to where the skill will grasp or release (:mod:`vla.policies.rt1.scenes`).
Shards are written atomically by this process only; rerunning resumes. Options:
:class:`vla.policies.rt1.scenes.RecordScenesConfig`; bad input ends in one line, exit code 2.
"""

from vla.cli.app import hydra_app
from vla.policies.rt1.scenes import RecordScenesConfig, record_scenes

main = hydra_app(
    "vla-record-scenes",
    "record_scenes",
    RecordScenesConfig,
    record_scenes,
    "finished shards are safe, rerun to resume",
)

if __name__ == "__main__":
    main()
