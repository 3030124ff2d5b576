"""``vla-collect-affordance``: label skills from diverse states for the learned affordance.

    OMP_NUM_THREADS=1 vla-collect-affordance output_dir=data/affordance episodes=150
    vla-collect-affordance output_dir=/tmp/aff policy=expert episodes=2

Episode ``i`` uses seed ``seed_start + i`` (training seeds only). Shards are written
atomically every ``shard_episodes`` episodes and when the run stops; rerunning the same
command skips the seeds already in ``output_dir`` and appends new shards (a larger
``episodes`` extends the dataset). Only the parent process writes; workers label.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import hydra
from omegaconf import DictConfig
from tqdm import tqdm

from sim.tasks import BUILTIN_SUITES
from vla.cli.errors import run_app
from vla.data.writer_lock import acquire_lock, release_lock
from vla.durable import append_line
from vla.parallel import worker_map
from vla.planning.affordance.collect import CollectConfig, LabelledState, Labeller, check_seeds
from vla.planning.affordance.dataset import (
    COMMANDS_FILE,
    FIELDS,
    done_episodes,
    load_dataset,
    summarize,
    write_shard,
)

LOCK_FILE = ".writer.lock"


def run_jobs(seeds: list[int], cfg: CollectConfig, num_workers: int) -> Iterator[LabelledState]:
    """Labelled episodes in completion order, in ``num_workers`` spawn processes (0: inline)."""
    return worker_map(Labeller, cfg, seeds, num_workers)


def collect_config(cfg: DictConfig) -> CollectConfig:
    """The worker config from the Hydra config, validated (one-line ValueError)."""
    suites = tuple(cfg.suites)
    unknown = [s for s in suites if s not in BUILTIN_SUITES]
    if not suites or unknown:
        raise ValueError(f"suites must be built-in suites {list(BUILTIN_SUITES)}, got {unknown}")
    if cfg.max_steps < 1 or cfg.random_skills < 0 or cfg.oracle_skills not in (0, 1):
        raise ValueError("need max_steps >= 1, random_skills >= 0 and oracle_skills 0 or 1")
    return CollectConfig(
        suites=suites,
        policy=str(cfg.policy),
        max_steps=int(cfg.max_steps),
        oracle_skills=int(cfg.oracle_skills),
        random_skills=int(cfg.random_skills),
        image_size=int(cfg.image_size),
        threads=int(cfg.threads),
    )


class ShardBuffer:
    """Labelled episodes waiting to be written as one shard."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.samples: dict[str, list] = {k: [] for k in FIELDS}
        self.episodes: list[int] = []

    def add(self, state: LabelledState) -> None:
        """Buffer one episode's samples."""
        self.episodes.append(state.seed)
        for sample in state.samples:
            for key in FIELDS:
                self.samples[key].append(sample[key])

    def flush(self) -> None:
        """Write the buffered episodes as a new shard (nothing if empty)."""
        if self.episodes:
            write_shard(self.directory, self.samples, self.episodes)
            self.__init__(self.directory)


def collect(cfg: DictConfig) -> str:
    """Collect what ``cfg`` asks for (configs/collect_affordance.yaml); returns the summary."""
    worker_cfg = collect_config(cfg)
    directory = Path(cfg.output_dir).expanduser()
    seeds = list(range(int(cfg.seed_start), int(cfg.seed_start) + int(cfg.episodes)))
    check_seeds(seeds)
    directory.mkdir(parents=True, exist_ok=True)
    acquire_lock(directory / LOCK_FILE)
    try:
        done = done_episodes(directory)
        pending = [s for s in seeds if s not in done]
        command = " ".join(["vla-collect-affordance", *sys.argv[1:]])
        append_line(directory / COMMANDS_FILE, f"{command}\n".encode())
        _collect(pending, worker_cfg, directory, int(cfg.num_workers), int(cfg.shard_episodes))
    finally:
        release_lock(directory / LOCK_FILE, os.getpid())
    summary = f"dataset {directory}: {summarize(load_dataset(directory))}"
    print(summary)
    return summary


def _collect(seeds: list[int], cfg: CollectConfig, directory: Path, workers: int, every: int):
    buffer = ShardBuffer(directory)
    bar = tqdm(total=len(seeds), desc="labelling", unit="episode", disable=None)
    try:
        for state in run_jobs(seeds, cfg, workers):
            buffer.add(state)
            if len(buffer.episodes) >= every:
                buffer.flush()
            bar.update()
    finally:  # Ctrl-C or an error: keep the finished episodes
        buffer.flush()
        bar.close()


@hydra.main(config_path="../../configs", config_name="collect_affordance", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app(
        "vla-collect-affordance",
        collect,
        cfg,
        on_interrupt="finished episodes are saved, rerun to resume",
    )


if __name__ == "__main__":
    main()
