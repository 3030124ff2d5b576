"""``vla-record-scenes``: localisation scenes for co-training RT-1's goal head (resumable).

    vla-record-scenes output_dir=data/scenes n_scenes=40000 num_workers=2

Each scene is one reset and one render of a random single-skill tabletop task, labelled
with the hand's offset to where the skill will grasp or release (:mod:`vla.policies.rt1.scenes`).
Shards are written atomically by this process only; rerunning resumes.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import hydra
from omegaconf import DictConfig
from tqdm import tqdm

from vla.cli.errors import run_app
from vla.parallel import worker_map
from vla.policies.rt1.scenes import SceneMaker, check_meta, pending_shards, write_shard


def record_scenes(cfg: DictConfig) -> Path:
    """Write the shards ``cfg`` asks for (see configs/record_scenes.yaml); returns the folder."""
    folder = Path(cfg.output_dir)
    size, image_size = int(cfg.shard_size), int(cfg.image_size)
    jobs = pending_shards(folder, int(cfg.n_scenes), image_size, size)
    start = str(cfg.get("start", "home"))
    check_meta(folder, image_size, size, start)
    maker = partial(SceneMaker, start=start)
    bar = tqdm(total=len(jobs) * size, desc="scenes", unit="scene", disable=None)
    for index, data in worker_map(maker, image_size, jobs, int(cfg.num_workers)):
        write_shard(folder, index, data)
        bar.update(size)
    bar.close()
    print(f"scenes {folder}: {len(list(folder.glob('scenes-*.npz')))} shards of {size}")
    return folder


@hydra.main(config_path="../../configs", config_name="record_scenes", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-record-scenes", record_scenes, cfg, "finished shards are safe, rerun to resume")


if __name__ == "__main__":
    main()
