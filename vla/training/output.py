"""The output folder of a ``vla-train`` run: one run at a time, no stale leftovers, and the
record of the run that every checkpoint carries (``train_config.json``).

Also its ``metrics.csv``, which a resumed run continues from the checkpoint's step.

The folder's lock is the dataset writer lock (:mod:`vla.data.writer_lock`): a second run on
the same ``output_dir`` is refused in one line while the first is alive, and a lock left by
a killed run is taken over. Holding it, a run deletes the temporary checkpoint folders a
crash left behind (``checkpoints/.last.tmp-*``).
"""

from __future__ import annotations

import csv
import dataclasses
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vla.checkpoint import remove_stale_temps
from vla.data.writer_lock import acquire_lock, release_lock
from vla.tokenizer import ACTION_NAMES

LOCK_FILE = ".train.lock"
CSV_FIELDS = (
    ["step", "lr", "samples_per_s", "train_loss", "train_acc", "val_loss", "val_acc"]
    + [f"train_acc_{name}" for name in ACTION_NAMES]
    + [f"val_acc_{name}" for name in ACTION_NAMES]
    + ["sim_success"]
)


@contextmanager
def locked_output(output_dir: str | Path, checkpoints: str = "checkpoints") -> Iterator[Path]:
    """Hold ``output_dir``'s lock while the block runs; stale temporary checkpoints in
    ``output_dir/checkpoints`` are removed once the lock is held.

    Raises:
        DatasetLockedError: another live process holds the lock (a one-line ValueError).
    """
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lock, pid = folder / LOCK_FILE, os.getpid()
    acquire_lock(lock)
    try:
        for stale in remove_stale_temps(folder / checkpoints):
            print(f"removed {stale}, a temporary checkpoint left by a crashed run")
        yield folder
    finally:
        release_lock(lock, pid)


def run_record(cfg: Any, data: dict[str, Any], step: int) -> dict[str, Any]:
    """What a checkpoint saved at ``step`` records about its run: the resolved configuration
    (every option, defaults included), the command line and the data it trained on."""
    return {
        "config": dataclasses.asdict(cfg),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "data": data,
        "step": step,
    }


def data_record(
    cfg: Any, store: Any, train_ids: list[int], val_ids: list[int], trainer: Any
) -> dict[str, Any]:
    """The data a run trains on, for ``train_config.json``: paths and counts, and the train
    episodes by where their states came from (``expert``, or the learner checkpoint that
    visited them: one entry per DAgger round)."""
    sources: dict[str, int] = {}
    for episode_id in train_ids:
        meta = store.record(episode_id).get("meta") or {}
        source = meta.get("learner") or "expert"
        if meta.get("dagger_beta") is not None:
            source = f"dagger {source} (beta {meta['dagger_beta']})"
        sources[source] = sources.get(source, 0) + 1
    return {
        "dataset": str(Path(cfg.data).resolve()),
        "dataset_episodes": len(store),
        "train_episodes_by_source": sources,
        "train_episodes": len(train_ids),
        "val_episodes": len(val_ids),
        "train_samples": len(trainer.train_set),
        "val_samples": len(trainer.val_set),
        "scenes": [str(Path(s).resolve()) for s in cfg.scene_folders],
    }


def open_metrics_csv(path: Path, resume_step: int | None) -> Any:
    """Open ``metrics.csv`` for appending; on resume keep only rows up to the checkpoint step
    (rows logged after it are replayed by the resumed run)."""
    rows: list[dict[str, str]] = []
    if resume_step is not None and path.is_file():
        with path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
    f = path.open("w", newline="")
    writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    f.flush()
    return f, writer
