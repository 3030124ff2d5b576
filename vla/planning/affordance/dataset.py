"""The affordance dataset: a folder of ``shard-NNNNN.npz`` files, each written atomically.

One sample is one (state, skill) pair labelled by running the skill there::

    front, wrist  uint8 (N, H, W, 3)  camera images of the state (before the skill runs)
    skill         str   (N,)          the skill text
    label         bool  (N,)          the simulator's success check after the policy ran it
    oracle        bool  (N,)          the skill is the oracle planner's next skill
    feasible      bool  (N,)          the symbolic world allows the skill now
    episode       int64 (N,)          the seed of the episode the state comes from
    steps         int32 (N,)          control steps the policy used
    suite         str   (N,)          the task suite of the episode

Each shard also lists ``episodes``: every seed it covers (an episode may yield no sample), so
a re-run skips them. A shard is written whole to a temp file and renamed into place
(:func:`vla.durable.write_atomically`): a crash leaves whole shards only, and new shards get
new numbers, so nothing written is ever replaced. ``commands.txt`` lists the command of
each collection run into the folder (for the model card).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from vla.durable import write_atomically

SHARD_PATTERN = re.compile(r"^shard-(\d{5,})\.npz$")
COMMANDS_FILE = "commands.txt"  # the collection command of every run into the folder, in order
FIELDS = ("front", "wrist", "skill", "label", "oracle", "feasible", "episode", "steps", "suite")


def shard_paths(directory: str | Path) -> list[Path]:
    """The complete shards of ``directory`` in write order (temp files are ignored)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(int(m[1]), p) for p in directory.iterdir() if (m := SHARD_PATTERN.match(p.name))]
    return [p for _, p in sorted(found)]


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as shard:
            return {k: shard[k] for k in (*FIELDS, "episodes")}
    except Exception as error:  # zip/npz errors vary: BadZipFile, KeyError, ValueError, OSError
        raise ValueError(f"affordance shard {path} is unreadable ({error}); delete it") from None


def write_shard(directory: str | Path, samples: dict[str, list], episodes: list[int]) -> Path:
    """Write ``samples`` (FIELDS -> per-sample values) covering ``episodes`` as a new shard."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    existing = shard_paths(directory)
    index = int(SHARD_PATTERN.match(existing[-1].name)[1]) + 1 if existing else 0
    arrays = {k: _stack(k, samples.get(k, [])) for k in FIELDS}
    buffer = io.BytesIO()
    np.savez(buffer, episodes=np.asarray(episodes, np.int64), **arrays)
    path = directory / f"shard-{index:05d}.npz"
    write_atomically(path, buffer.getvalue())
    return path


def _stack(name: str, values: list) -> np.ndarray:
    if name in ("front", "wrist"):
        return np.stack(values).astype(np.uint8) if values else np.zeros((0, 0, 0, 3), np.uint8)
    dtype = {"skill": np.str_, "suite": np.str_, "episode": np.int64, "steps": np.int32}
    return np.asarray(values, dtype=dtype.get(name, np.bool_))


def done_episodes(directory: str | Path) -> set[int]:
    """Seeds of every episode already in the dataset."""
    return {int(s) for p in shard_paths(directory) for s in _load(p)["episodes"]}


def load_dataset(directory: str | Path) -> dict[str, np.ndarray]:
    """All shards concatenated (FIELDS -> arrays); ValueError if there is no sample."""
    shards = [s for s in map(_load, shard_paths(directory)) if len(s["label"])]
    if not shards:
        raise ValueError(
            f"no affordance samples in {directory}: collect some with vla-collect-affordance"
        )
    return {k: np.concatenate([s[k] for s in shards]) for k in FIELDS}


def summarize(data: dict[str, np.ndarray]) -> str:
    """One line: samples, episodes, positive rate overall and per skill type."""
    from vla.planning.affordance.skills import skill_types

    types = skill_types(data["skill"])
    parts = [f"{len(data['label'])} samples", f"{len(set(data['episode'].tolist()))} episodes"]
    parts.append(f"positive {data['label'].mean():.1%}")
    for name in sorted(set(types)):
        mask = types == name
        parts.append(f"{name} {data['label'][mask].mean():.1%} of {int(mask.sum())}")
    oracle = data["oracle"]
    if oracle.any():
        parts.append(f"oracle-next {data['label'][oracle].mean():.1%} of {int(oracle.sum())}")
    return ", ".join(parts)


def collection_commands(directory: str | Path) -> list[str]:
    """The collection commands recorded in ``directory`` (oldest first)."""
    path = Path(directory) / COMMANDS_FILE
    return path.read_text().splitlines() if path.is_file() else []


class ShardBuffer:
    """Labelled episodes waiting to be written as one shard of ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.samples: dict[str, list] = {k: [] for k in FIELDS}
        self.episodes: list[int] = []

    def add(self, seed: int, samples: list[dict]) -> None:
        """Buffer one episode's samples (``seed``: the episode; it may have none)."""
        self.episodes.append(seed)
        for sample in samples:
            for key in FIELDS:
                self.samples[key].append(sample[key])

    def flush(self) -> None:
        """Write the buffered episodes as a new shard (nothing if empty)."""
        if self.episodes:
            write_shard(self.directory, self.samples, self.episodes)
            self.__init__(self.directory)
