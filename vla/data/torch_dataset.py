"""Step-level PyTorch view of an :class:`~vla.data.episode_store.EpisodeStore` for training.

One item is one step t of one episode, with the ``history`` frames ending at t. Episodes are
decoded lazily, whole, and kept in a small per-process LRU cache, so memory stays bounded by
``cache_episodes`` episodes whatever the dataset size. Random access over many episodes
decodes an episode per item; for big datasets sample indices grouped by episode.

Augmentation randomness comes from the ``generator`` passed in or, without one, from torch's
default RNG, which ``DataLoader`` seeds differently in every worker (from its base seed, so
``torch.manual_seed`` or ``DataLoader(generator=...)`` makes a run reproducible). Pass a
generator only with ``num_workers=0``: each worker would get an identical copy of it.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from vla.data.episode_store import EpisodeStore
from vla.policies.rt1.goals import goal_offsets


class FrameDataset(Dataset):
    """Steps of the chosen episodes as training items.

    Item (a dict)::

        images       uint8 (history, n_cams, 3, H, W): frames t-history+1 .. t; steps before
                     the episode start repeat its first frame
        state        float32 (history, state_dim), padded the same way
        action       float32 (action_dim,): the action taken at step t
        goal         float32 (3,): the hand's offset to where the skill grasps or releases
                     (:mod:`vla.policies.rt1.goals`), zeros where ``goal_valid`` is False
        goal_valid   bool: step t is at or before the episode's grasp/release step
        instruction  str: the text the policy is conditioned on
        episode_id   int
        step         int: t

    ``split`` is a split name ("train", "val", "test"), None for all episodes, or a list of
    episode ids (e.g. from :func:`split_episodes`). ``image_size`` (H, W) resizes frames
    (bilinear, antialiased); None keeps the stored size.
    """

    def __init__(
        self,
        source: EpisodeStore | str | Path,
        split: str | Sequence[int] | None = "train",
        *,
        history: int = 2,
        image_size: tuple[int, int] | None = None,
        augment: bool = False,
        generator: torch.Generator | None = None,
        cache_episodes: int = 8,
    ) -> None:
        if history < 1 or cache_episodes < 1:
            raise ValueError(f"history, cache_episodes must be >= 1: {history}, {cache_episodes}")
        path = source.path if isinstance(source, EpisodeStore) else Path(source)
        # a read-only handle of our own: picklable for DataLoader workers, never locks
        self.store = EpisodeStore.open(path)
        self.episode_ids = _select(self.store, split)
        self.history = history
        self.image_size = tuple(image_size) if image_size is not None else None
        self.augment = augment
        self.generator = generator
        self.cache_episodes = cache_episodes
        lengths = [self.store.record(i)["n_steps"] for i in self.episode_ids]
        self._starts = np.concatenate([[0], np.cumsum(lengths)]).tolist()
        self._cache: OrderedDict[int, dict[str, np.ndarray]] = OrderedDict()

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, index: int) -> dict[str, Any]:
        episode_id, t = self._locate(index)
        arrays = self._episode(episode_id)
        steps = np.maximum(np.arange(t - self.history + 1, t + 1), 0)  # pad with the first step
        frames = np.stack([arrays[c][steps] for c in self.store.cameras], axis=1)
        images = torch.from_numpy(frames).permute(0, 1, 4, 2, 3).contiguous()
        if self.image_size is not None and tuple(images.shape[-2:]) != self.image_size:
            images = resize_frames(images, self.image_size)
        if self.augment:
            images = augment_frames(images, self.generator)
        return {
            "images": images,
            "state": torch.from_numpy(arrays["state"][steps]),
            "action": torch.from_numpy(arrays["action"][t].copy()),
            "goal": torch.from_numpy(arrays["goal"][t].copy()),
            "goal_valid": bool(arrays["goal_valid"][t]),
            "instruction": self.store.record(episode_id)["instruction"],
            "episode_id": episode_id,
            "step": t,
        }

    def _locate(self, index: int) -> tuple[int, int]:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"step {index} out of range for {len(self)} steps")
        position = bisect.bisect_right(self._starts, index) - 1
        return self.episode_ids[position], index - self._starts[position]

    def _episode(self, episode_id: int) -> dict[str, np.ndarray]:
        if episode_id in self._cache:
            self._cache.move_to_end(episode_id)
        else:
            arrays = self.store.load_episode(episode_id)
            arrays["goal"], arrays["goal_valid"] = goal_offsets(arrays["state"], arrays["action"])
            self._cache[episode_id] = arrays
            if len(self._cache) > self.cache_episodes:
                self._cache.popitem(last=False)
        return self._cache[episode_id]

    def __getstate__(self) -> dict:
        # workers start with an empty cache instead of a pickled copy of ours
        return {**self.__dict__, "_cache": OrderedDict()}


def _select(store: EpisodeStore, split: str | Sequence[int] | None) -> list[int]:
    if split is None or isinstance(split, str):
        return store.episode_ids(split)
    ids = [int(i) for i in split]
    for episode_id in ids:
        store.record(episode_id)  # KeyError now rather than mid-epoch
    return ids


def split_episodes(
    store: EpisodeStore | str | Path,
    val_fraction: float = 0.1,
    seed: int = 0,
    *,
    split: str | None = "train",
    group_field: str = "key",
) -> tuple[list[int], list[int]]:
    """Split the episodes of ``split`` into (train_ids, val_ids), by episode, deterministically.

    Each group of episodes sharing ``group_field`` goes to val iff a hash of (seed, group) falls
    below ``val_fraction``, so the split of existing episodes never changes when more are
    recorded. The default groups each episode alone; ``group_field="seed"`` keeps all skills
    of one recorded task on the same side. With two or more groups and val_fraction > 0, both
    sides get at least one group.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if not isinstance(store, EpisodeStore):
        store = EpisodeStore.open(store)
    records = store.episodes(split)
    draws = {str(r[group_field]): _unit_hash(seed, str(r[group_field])) for r in records}
    val_groups = {g for g, u in draws.items() if u < val_fraction}
    if val_fraction > 0 and len(draws) >= 2:
        if not val_groups:
            val_groups.add(min(draws, key=draws.get))
        if len(val_groups) == len(draws):
            val_groups.discard(max(draws, key=draws.get))
    train = [r["episode_id"] for r in records if str(r[group_field]) not in val_groups]
    val = [r["episode_id"] for r in records if str(r[group_field]) in val_groups]
    return train, val


def _unit_hash(seed: int, text: str) -> float:
    """A uniform draw in [0, 1) fixed by (seed, text), the same on every machine and run."""
    digest = hashlib.sha256(f"{seed}\0{text}".encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2.0**64


def resize_frames(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize uint8 frames (..., 3, H, W) to (..., 3, *size), bilinear with antialiasing."""
    lead = images.shape[:-3]
    flat = images.reshape(-1, *images.shape[-3:]).float()
    out = F.interpolate(flat, size=size, mode="bilinear", align_corners=False, antialias=True)
    return out.round().clamp(0, 255).to(torch.uint8).reshape(*lead, 3, *size)


def augment_frames(
    images: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    max_shift: int = 2,
    brightness: float = 0.1,
    contrast: float = 0.1,
) -> torch.Tensor:
    """Randomly shift and colour-jitter uint8 frames (history, n_cams, 3, H, W).

    Per camera, one draw is shared by all history frames so motion between them stays real:
    a shift of up to ``max_shift`` pixels (edges replicated), contrast scaled by a factor in
    1 +- ``contrast`` around the mean, brightness offset by up to +-``brightness`` * 255.
    Returns uint8 of the same shape.
    """
    history, n_cams, _, height, width = images.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n_cams, 2), generator=generator)
    gains = 1 + contrast * (2 * torch.rand(n_cams, generator=generator) - 1)
    offsets = 255 * brightness * (2 * torch.rand(n_cams, generator=generator) - 1)
    out = torch.empty_like(images)
    for cam in range(n_cams):
        frames = F.pad(images[:, cam].float(), (max_shift,) * 4, mode="replicate")
        top, left = (max_shift + shifts[cam]).tolist()
        frames = frames[..., top : top + height, left : left + width]
        mean = frames.mean()
        frames = (frames - mean) * gains[cam] + mean + offsets[cam]
        out[:, cam] = frames.round().clamp(0, 255).to(torch.uint8)
    return out


def collate(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Batch items: images (B, history, n_cams, 3, H, W) uint8, state (B, history, D),
    action (B, A), goal (B, 3), goal_valid (B,) bool, episode_id and step (B,) int64,
    instruction a list of B str."""
    return {
        "images": torch.stack([item["images"] for item in items]),
        "state": torch.stack([item["state"] for item in items]),
        "action": torch.stack([item["action"] for item in items]),
        "goal": torch.stack([item["goal"] for item in items]),
        "goal_valid": torch.tensor([item["goal_valid"] for item in items], dtype=torch.bool),
        "instruction": [item["instruction"] for item in items],
        "episode_id": torch.tensor([item["episode_id"] for item in items], dtype=torch.long),
        "step": torch.tensor([item["step"] for item in items], dtype=torch.long),
    }
