"""Decoded frames of a ``vla-episodes`` dataset in one memory-mapped file, for fast training.

Training reads tens of thousands of random steps a minute. Decompressing a whole episode
for every step read costs more CPU than the model, so a cache holds every step's frames
decoded once, as uint8, in one flat file that the OS pages in and every process maps
(DataLoader workers included, at no copy). Everything else a step needs (state, action,
where its episode starts and ends) is small and lives in memory.

Layout, under ``DATASET/cache/`` (derived data: deleting it only costs a rebuild)::

    frames-<H>x<W>.u8      rows of (n_cameras, 3, H, W) uint8, one row per step, episodes
                           appended in the order they were added
    frames-<H>x<W>.json    {"version", "cameras", "image_size", "rows",
                            "episodes": [[episode_id, first_row, n_steps], ...]}

The JSON is the source of truth and is replaced atomically after the rows it names are
fsync'd; bytes past ``rows`` (a crash mid-append) are cut off at the next update. Updating
appends only the episodes the cache lacks, so a dataset that grows between training rounds
(DAgger) costs only its new episodes. Updates hold an exclusive ``flock`` on
``frames-<H>x<W>.lock``, so two training runs on one dataset take turns (the lock goes with
the process that held it, however it ends).
"""

from __future__ import annotations

import fcntl
import json
import os
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from vla.data.episode_store import EpisodeStore
from vla.data.torch_dataset import resize_frames
from vla.durable import fsync_path, write_atomically

CACHE_DIR = "cache"
VERSION = 1


class FrameCache:
    """The frames of every cached step of one dataset at one image size.

    Attributes:
        frames: (rows, n_cameras, 3, H, W) uint8 memory map.
        state: (rows, state_dim) float32; action: (rows, action_dim) float32.
        rows_of: {episode_id: (first_row, n_steps)}.
    """

    def __init__(self, store: EpisodeStore, image_size: tuple[int, int]) -> None:
        self.store = store
        self.image_size = tuple(int(s) for s in image_size)
        h, w = self.image_size
        folder = store.path / CACHE_DIR
        self.data_file = folder / f"frames-{h}x{w}.u8"
        self.meta_file = folder / f"frames-{h}x{w}.json"
        self.row_shape = (len(store.cameras), 3, h, w)
        self.meta = self._read_meta()
        self._attach()

    @classmethod
    def build(
        cls, store: EpisodeStore, image_size: tuple[int, int], progress: bool = True
    ) -> FrameCache:
        """The cache of ``store`` at ``image_size``, after appending the episodes it lacks."""
        h, w = (int(s) for s in image_size)
        lock_file = store.path / CACHE_DIR / f"frames-{h}x{w}.lock"
        lock_file.parent.mkdir(exist_ok=True)
        with open(lock_file, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another run building it: wait for it
            cache = cls(store, image_size)
            missing = [i for i in store.episode_ids(None) if i not in cache.rows_of]
            if missing:
                cache._append(missing, progress)
        return cache

    # ----------------------------------------------------------------- reading
    def _read_meta(self) -> dict[str, Any]:
        empty = {
            "version": VERSION,
            "cameras": list(self.store.cameras),
            "image_size": list(self.image_size),
            "rows": 0,
            "episodes": [],
        }
        if not self.meta_file.is_file():
            return empty
        meta = json.loads(self.meta_file.read_text())
        if meta.get("version") != VERSION or meta.get("cameras") != empty["cameras"]:
            return empty  # another layout: rebuilt from scratch
        return meta

    def _attach(self) -> None:
        """Map the file and load the per-step arrays of the episodes the meta names."""
        rows = self.meta["rows"]
        self.rows_of = {int(e): (int(s), int(n)) for e, s, n in self.meta["episodes"]}
        if rows:
            self.frames = np.memmap(self.data_file, np.uint8, "r", shape=(rows, *self.row_shape))
        else:
            self.frames = np.zeros((0, *self.row_shape), np.uint8)
        state, action = [], []
        for episode_id, _, _ in self.meta["episodes"]:
            with np.load(self.store.path / self.store.record(episode_id)["file"]) as arrays:
                state.append(arrays["state"])  # members decode lazily: no frames here
                action.append(arrays["action"])
        dims = (self.store.state_dim, self.store.action_dim)
        self.state = np.concatenate(state) if state else np.zeros((0, dims[0]), np.float32)
        self.action = np.concatenate(action) if action else np.zeros((0, dims[1]), np.float32)

    # ----------------------------------------------------------------- writing
    def _append(self, episode_ids: list[int], progress: bool) -> None:
        """Decode ``episode_ids`` and append their frames; the meta is replaced last."""
        self.data_file.parent.mkdir(exist_ok=True)
        rows = self.meta["rows"]
        row_bytes = int(np.prod(self.row_shape))
        episodes = list(self.meta["episodes"])
        with open(self.data_file, "ab") as handle:
            handle.truncate(rows * row_bytes)  # bytes a crashed append left behind
            bar = tqdm(episode_ids, desc="frame cache", unit="episode", disable=not progress)
            for episode_id in bar:
                frames = self._decoded(episode_id)
                handle.write(frames.tobytes())
                episodes.append([episode_id, rows, len(frames)])
                rows += len(frames)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_path(self.data_file.parent)
        self.meta = {**self.meta, "rows": rows, "episodes": episodes}
        write_atomically(self.meta_file, json.dumps(self.meta).encode())
        self._attach()

    def _decoded(self, episode_id: int) -> np.ndarray:
        """(T, n_cameras, 3, H, W) uint8 frames of one episode at the cache's size."""
        arrays = self.store.load_episode(episode_id)
        frames = np.stack([arrays[c] for c in self.store.cameras], axis=1)  # (T, N, H, W, 3)
        frames = torch.from_numpy(frames).permute(0, 1, 4, 2, 3)
        if tuple(frames.shape[-2:]) != self.image_size:
            frames = resize_frames(frames, self.image_size)
        return np.ascontiguousarray(frames.numpy())

    def __getstate__(self) -> dict[str, Any]:
        # DataLoader workers map the file again instead of receiving a pickled copy of it
        return {k: v for k, v in self.__dict__.items() if k != "frames"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        rows = self.meta["rows"]
        shape = (rows, *self.row_shape)
        self.frames = np.memmap(self.data_file, np.uint8, "r", shape=shape) if rows else None
