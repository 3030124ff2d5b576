"""Crash-safe on-disk store of recorded robot episodes: format ``vla-episodes``, version 1.

Layout::

    DATASET_DIR/
      dataset.json            header, written once (atomically) when the dataset is created
      index.jsonl             the committed episodes, one JSON object per line, in commit order
      episodes/ep_000042.npz  the arrays of episode 42
      writer.lock             present while a writer has the dataset open

``dataset.json`` is a UTF-8 JSON object::

    format      "vla-episodes"
    version     1; a reader must refuse a larger version
    created     creation time, ISO 8601 UTC, e.g. "2025-01-31T12:00:00Z"
    cameras     camera names in order, e.g. ["front", "wrist"] (each matches [A-Za-z][A-Za-z0-9_]*)
    image_size  [H, W] in pixels, the same for every camera
    state_dim   D, length of the state vector (10 for the mobile Panda)
    action_dim  A, length of the action vector (11 for the mobile Panda)

An episode file is a ZIP archive as written by ``numpy.savez_compressed`` (DEFLATE; every
member carries a CRC-32). Each member ``<name>.npy`` is an NPY (v1.0 or v2.0) little-endian
C-order array over the episode's T >= 1 steps::

    <camera>  (T, H, W, 3) uint8    RGB frame, one member per camera in ``cameras``
    state     (T, D) float32        robot state observed at step t (finite)
    action    (T, A) float32        action taken at step t (finite)

``index.jsonl`` is UTF-8 with one JSON object per line. A line is committed only once its
terminating "\\n" is on disk: bytes after the last "\\n" are a crash mid-append and must be
ignored. Any other line that does not parse means the file was damaged. A line is one of:

    episode  {"kind": "episode", "episode_id": int >= 0 (unique, increasing down the file),
              "file": path relative to DATASET_DIR ("episodes/ep_000042.npz"), "n_steps": T,
              "key": str, "instruction": str (the text the policy is conditioned on, e.g. the
              skill), "task": str (the whole task's instruction), "family": str, "skill": str,
              "scene": str, "seed": int or null, "split": "train" | "val" | "test",
              "success": bool, "meta": object (free-form)}
    marker   {"kind": "marker", "key": str, "meta": object}: a key the recorder finished without
              storing an episode (e.g. a failed task), so a rerun skips it

``key`` is the recorder's resume key, unique over all lines; a tuple key such as
("train", "pick", 7) is stored joined by "/" ("train/pick/7"). Files not named by a committed
episode line (``*.tmp-*`` temporaries, orphaned ``ep_*.npz``) are not part of the dataset.

Writing (one writer per dataset; readers need no lock and see the index as of opening):

1. Take ``writer.lock``: create it with O_CREAT|O_EXCL holding {"pid": int, "host": str}. If it
   exists and names a live pid on this host (or another host, which cannot be checked), refuse.
   If its pid is dead, or it is unreadable, it is stale (kill -9): delete it and retry once.
2. Recover: truncate ``index.jsonl`` after its last "\\n", delete temporaries and orphans.
3. Per episode: write ``episodes/ep_N.npz.tmp-PID``, fsync, rename to ``ep_N.npz``, fsync the
   folder, then append the index line with one write and fsync. N = 1 + the largest id.

A crash, kill -9 or Ctrl-C at any point leaves every committed episode intact; the unfinished
one is dropped by step 2 on the next open. The lock is advisory and host-local: it stops two
recorders on one machine, not writers on different machines sharing a network disk.
"""

from __future__ import annotations

import json
import os
import weakref
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.contract import ACTION_DIM, STATE_DIM
from vla.data.episode_schema import (
    DEFAULT_CAMERAS,
    EpisodeKey,
    as_arrays,
    episode_fields,
    make_header,
    meta_dict,
    normalize_key,
    validate_arrays,
)
from vla.data.store_files import (
    EPISODE_DIR,
    HEADER_FILE,
    INDEX_FILE,
    LOCK_FILE,
    read_header,
    read_index,
    recover,
    settle_header,
    write_npz_atomically,
)
from vla.data.writer_lock import acquire_lock, release_lock
from vla.durable import append_line


class EpisodeStore:
    """A dataset of episodes on disk; see the module docstring for the format.

    Open it with :meth:`open_or_create`, :meth:`create` (writers) or :meth:`open` (readers,
    or writers with ``writable=True``). Writers hold ``writer.lock`` until :meth:`close`, the
    end of a ``with`` block, garbage collection or interpreter exit.
    """

    def __init__(self, path: Path, header: dict, writable: bool) -> None:
        # use the classmethods: they take the lock and recover before this runs
        self.path = path
        self.header = header
        self.writable = writable
        self._records: list[dict] = []
        self._by_id: dict[int, dict] = {}
        self._keys: set[str] = set()
        self._release = (
            weakref.finalize(self, release_lock, path / LOCK_FILE, os.getpid())
            if writable
            else None
        )
        for record in read_index(path / INDEX_FILE):
            self._remember(record)

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open_or_create(
        cls,
        path: str | Path,
        *,
        image_size: tuple[int, int],
        cameras: Sequence[str] = DEFAULT_CAMERAS,
        state_dim: int = STATE_DIM,
        action_dim: int = ACTION_DIM,
    ) -> EpisodeStore:
        """Open the dataset at ``path`` for writing, creating it if needed.

        Raises ValueError if an existing dataset has other cameras, image size or dims.
        """
        wanted = make_header(cameras, image_size, state_dim, action_dim)
        return cls._open_writer(Path(path), wanted, mode="either")

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        image_size: tuple[int, int],
        cameras: Sequence[str] = DEFAULT_CAMERAS,
        state_dim: int = STATE_DIM,
        action_dim: int = ACTION_DIM,
    ) -> EpisodeStore:
        """Create a new dataset at ``path`` for writing; FileExistsError if one is there."""
        wanted = make_header(cameras, image_size, state_dim, action_dim)
        return cls._open_writer(Path(path), wanted, mode="create")

    @classmethod
    def open(cls, path: str | Path, *, writable: bool = False) -> EpisodeStore:
        """Open an existing dataset; read-only (no lock, no cleanup) unless ``writable``."""
        path = Path(path)
        if writable:
            return cls._open_writer(path, None, mode="open")
        return cls(path, read_header(path), writable=False)

    @classmethod
    def _open_writer(cls, path: Path, wanted: dict | None, mode: str) -> EpisodeStore:
        if mode == "open" and not (path / HEADER_FILE).exists():
            raise FileNotFoundError(f"no dataset at {path} (missing {HEADER_FILE})")
        path.mkdir(parents=True, exist_ok=True)
        acquire_lock(path / LOCK_FILE)
        try:
            header = settle_header(path, wanted, mode)
            recover(path)
            return cls(path, header, writable=True)
        except BaseException:
            release_lock(path / LOCK_FILE, os.getpid())
            raise

    def close(self) -> None:
        """Release the writer lock (a no-op for readers); the store is read-only afterwards."""
        if self._release is not None:
            self._release()
        self.writable = False

    def __enter__(self) -> EpisodeStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- header --------------------------------------------------------------------------

    @property
    def cameras(self) -> tuple[str, ...]:
        return tuple(self.header["cameras"])

    @property
    def image_size(self) -> tuple[int, int]:
        """(H, W) in pixels."""
        height, width = self.header["image_size"]
        return height, width

    @property
    def state_dim(self) -> int:
        return self.header["state_dim"]

    @property
    def action_dim(self) -> int:
        return self.header["action_dim"]

    # -- reading -------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of episodes (markers not counted)."""
        return len(self._by_id)

    def episodes(self, split: str | None = None) -> list[dict]:
        """Index records of the episodes (optionally of one split), in commit order."""
        return [dict(r) for r in self._by_id.values() if split in (None, r["split"])]

    def episode_ids(self, split: str | None = None) -> list[int]:
        """Ids of the episodes (optionally of one split), ascending."""
        return [i for i, r in self._by_id.items() if split in (None, r["split"])]

    def record(self, episode_id: int) -> dict:
        """The index record of one episode; KeyError if there is none."""
        try:
            return dict(self._by_id[episode_id])
        except KeyError:
            raise KeyError(f"no episode {episode_id} in {self.path}") from None

    def has(self, key: EpisodeKey) -> bool:
        """Whether ``key`` was recorded (as an episode or a marker)."""
        return normalize_key(key) in self._keys

    def done_keys(self) -> set[str]:
        """All recorded keys, normalized (tuples joined by "/")."""
        return set(self._keys)

    def load_episode(self, episode_id: int) -> dict[str, np.ndarray]:
        """Arrays of one episode: each camera (T,H,W,3) uint8, state (T,D) and action (T,A)
        float32. Raises ValueError if the file is missing, damaged or malformed."""
        record = self.record(episode_id)
        file = self.path / record["file"]
        try:
            with np.load(file, allow_pickle=False) as data:
                arrays = {name: data[name] for name in self.array_names}
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"episode {episode_id} ({file}) is unreadable: {error}") from error
        n_steps = validate_arrays(arrays, self.header)
        if n_steps != record["n_steps"]:
            raise ValueError(f"{file} has {n_steps} steps, the index says {record['n_steps']}")
        return arrays

    @property
    def array_names(self) -> tuple[str, ...]:
        """Names of the arrays in every episode file, in file order."""
        return (*self.cameras, "state", "action")

    def summary(self) -> dict:
        """Counts: episodes, steps, successes, markers, and episodes per split/family/skill."""
        records = list(self._by_id.values())
        return {
            "episodes": len(records),
            "steps": sum(r["n_steps"] for r in records),
            "successes": sum(r["success"] for r in records),
            "markers": len(self._records) - len(records),
            "by_split": dict(Counter(r["split"] for r in records)),
            "by_family": dict(Counter(r["family"] for r in records)),
            "by_skill": dict(Counter(r["skill"] for r in records)),
        }

    # -- writing -------------------------------------------------------------------------

    def add_episode(
        self,
        steps_or_arrays: Mapping[str, np.ndarray] | Iterable[Mapping[str, Any]],
        *,
        key: EpisodeKey,
        instruction: str,
        split: str,
        task: str = "",
        family: str = "",
        skill: str = "",
        scene: str = "",
        seed: int | None = None,
        success: bool = True,
        meta: Mapping[str, Any] | None = None,
    ) -> int:
        """Durably append one episode and return its id.

        ``steps_or_arrays`` is either the arrays (see :meth:`load_episode`; exactly those
        names, exact dtypes, T >= 1) or a sequence of steps ``{"images": {camera: (H,W,3)
        uint8}, "state": (D,), "action": (A,)}``. Raises ValueError naming the bad field.
        When this returns, the episode survives any crash.
        """
        self._require_writable()
        arrays = as_arrays(steps_or_arrays, self.cameras)
        n_steps = validate_arrays(arrays, self.header)
        episode_id = max(self._by_id, default=-1) + 1
        file = f"{EPISODE_DIR}/ep_{episode_id:06d}.npz"
        record = {"kind": "episode", "episode_id": episode_id, "file": file, "n_steps": n_steps}
        record.update(
            episode_fields(key, instruction, split, task, family, skill, scene, seed, success)
        )
        record["meta"] = meta_dict(meta)
        line = self._encode_new(record)  # before any write: a bad key or meta leaves no trace
        write_npz_atomically(self.path / file, {n: arrays[n] for n in self.array_names})
        append_line(self.path / INDEX_FILE, line)
        self._remember(record)
        return episode_id

    def mark_done(self, key: EpisodeKey, meta: Mapping[str, Any] | None = None) -> None:
        """Record ``key`` as done without an episode (e.g. a task whose expert failed)."""
        self._require_writable()
        record = {"kind": "marker", "key": normalize_key(key), "meta": meta_dict(meta)}
        append_line(self.path / INDEX_FILE, self._encode_new(record))
        self._remember(record)

    def _encode_new(self, record: dict) -> bytes:
        if record["key"] in self._keys:
            raise ValueError(f"key {record['key']!r} is already in {self.path}; skip done keys")
        try:
            text = json.dumps(record, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"meta is not plain JSON (no NaN/inf): {error}") from error
        return (text + "\n").encode("utf-8")

    def _remember(self, record: dict) -> None:
        self._records.append(record)
        self._keys.add(record["key"])
        if record["kind"] == "episode":
            self._by_id[record["episode_id"]] = record

    def _require_writable(self) -> None:
        if not self.writable:
            raise PermissionError(f"{self.path} is open read-only (or closed); cannot write")
