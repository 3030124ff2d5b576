"""The on-disk demonstration dataset written by ``vla-record`` and read by training.

Layout (format ``vla-demos``, version 1)::

    DATASET_DIR/
      dataset.json          {"format": "vla-demos", "version": 1, "cameras": ["front", "wrist"],
                             "image_size": [H, W], "state_dim": 10, "action_dim": 11}
      episodes/ep_000042.npz  one compressed npz per episode, arrays over its T steps:
                              front (T,H,W,3) uint8, wrist (T,H,W,3) uint8,
                              state (T,10) float32, action (T,11) float32
      index.jsonl           one JSON object per finished episode: episode_id, file, n_steps,
                            key, instruction (the skill text), task, family, suite, seed,
                            scene, split, success, meta

Crash safety: an episode file is written under a temporary name, fsync'd and renamed;
only then is its index line appended and fsync'd. The index is the single source of
truth: a torn last line or an episode file it does not name (a crash between the two
writes) is ignored on open, and stale temporary files are removed. So a crash, kill -9
or Ctrl-C never loses or corrupts a finished episode, and a rerun skips recorded keys.
One writer at a time (not enforced across machines).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

FORMAT, VERSION = "vla-demos", 1
ARRAYS = ("front", "wrist", "state", "action")


class DemoDataset:
    """Append-only episode store; see the module docstring for the format."""

    def __init__(self, path: str | Path, image_size: tuple[int, int] = (96, 96)):
        self.path = Path(path)
        self.episode_dir = self.path / "episodes"
        self.episode_dir.mkdir(parents=True, exist_ok=True)
        self.meta = {
            "format": FORMAT,
            "version": VERSION,
            "cameras": ["front", "wrist"],
            "image_size": list(image_size),
            "state_dim": 10,
            "action_dim": 11,
        }
        self._check_or_write_meta()
        for stale in self.episode_dir.glob("*.tmp*"):
            stale.unlink()
        self.records = self._read_index()

    def _check_or_write_meta(self) -> None:
        meta_file = self.path / "dataset.json"
        if meta_file.exists():
            found = json.loads(meta_file.read_text())
            if found != self.meta:
                diff = {k: found.get(k) for k in self.meta if found.get(k) != self.meta[k]}
                raise ValueError(
                    f"{self.path} holds a dataset with {diff}, not {self.meta['image_size']} "
                    f"images: pick another output_dir or the matching image_size"
                )
        else:
            _atomic_write(meta_file, json.dumps(self.meta, indent=2).encode())

    def _read_index(self) -> list[dict]:
        index = self.path / "index.jsonl"
        if not index.exists():
            return []
        records, lines = [], []
        for line in index.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a torn last line from a crash mid-append
                continue
            if (self.episode_dir / record["file"]).exists():
                records.append(record)
                lines.append(line)
        # rewrite without the torn line, or the next append would be glued onto it
        _atomic_write(index, "".join(line + "\n" for line in lines).encode())
        return records

    def __len__(self) -> int:
        return len(self.records)

    def keys(self) -> set[str]:
        """Keys of the recorded episodes (the recorder's resume check)."""
        return {r["key"] for r in self.records}

    def add_episode(self, arrays: dict[str, np.ndarray], **fields) -> int:
        """Durably append one episode; returns its id. ``fields`` go into the index."""
        self._validate(arrays)
        episode_id = max((r["episode_id"] for r in self.records), default=-1) + 1
        name = f"ep_{episode_id:06d}.npz"
        tmp = self.episode_dir / f"{name}.tmp{os.getpid()}"
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **{k: arrays[k] for k in ARRAYS})
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.episode_dir / name)
        record = {"episode_id": episode_id, "file": name, "n_steps": len(arrays["action"])}
        record.update(fields)
        with open(self.path / "index.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.records.append(record)
        return episode_id

    def _validate(self, arrays: dict[str, np.ndarray]) -> None:
        h, w = self.meta["image_size"]
        n = len(arrays.get("action", ()))
        expected = {
            "front": ((n, h, w, 3), np.uint8),
            "wrist": ((n, h, w, 3), np.uint8),
            "state": ((n, 10), np.float32),
            "action": ((n, 11), np.float32),
        }
        for key, (shape, dtype) in expected.items():
            if key not in arrays:
                raise ValueError(f"episode is missing {key!r}; it needs {list(ARRAYS)}")
            a = arrays[key]
            if a.shape != shape or a.dtype != dtype or n == 0:
                raise ValueError(
                    f"episode {key!r} is {a.dtype}{a.shape}, expected {dtype.__name__}{shape}"
                )

    def load_episode(self, episode_id: int) -> dict[str, np.ndarray]:
        """The arrays of one episode (see the module docstring)."""
        record = next(r for r in self.records if r["episode_id"] == episode_id)
        with np.load(self.episode_dir / record["file"]) as data:
            return {k: data[k] for k in ARRAYS}

    def summary(self) -> dict:
        """Episode and step counts per split and per skill kind."""
        out: dict = {"episodes": len(self.records), "steps": 0, "per_split": {}}
        for r in self.records:
            out["steps"] += r["n_steps"]
            out["per_split"][r["split"]] = out["per_split"].get(r["split"], 0) + 1
        return out


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
