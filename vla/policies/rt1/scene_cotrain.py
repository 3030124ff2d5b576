"""Co-training RT-1's goal head on localisation scenes (``vla-train scenes=DIR``).

Every training item of the demonstrations is paired with one scene of a
:class:`vla.policies.rt1.scenes.SceneSet`, chosen by the item's augmentation seed, so batches stay a
pure function of (seed, step) and a resumed run sees the same pairs. The scene's frame is
repeated over the history (a first step), augmented like the demonstrations, and only the
goal head is trained on it: a scene has no action.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from vla.data.torch_dataset import augment_frames, collate
from vla.policies.rt1.scenes import SceneSet
from vla.training.cached_batches import augment_batch

SCENE_KEYS = ("scene_images", "scene_state", "scene_goal")


class WithScenes(Dataset):
    """Items of ``frames`` (keyed ``(index, aug_seed)``) with one scene each, as ``scene_*``."""

    def __init__(self, frames: Dataset, scenes: SceneSet, cameras: Sequence[str], history: int):
        self.frames = frames
        self.scenes = scenes
        self.cameras = tuple(cameras)
        self.history = history

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        index, aug_seed = key
        item = self.frames[key]
        j = aug_seed % len(self.scenes)
        frame = np.stack([getattr(self.scenes, cam)[j] for cam in self.cameras])
        images = torch.from_numpy(frame).permute(0, 3, 1, 2).unsqueeze(0)
        images = images.repeat(self.history, 1, 1, 1, 1)
        generator = torch.Generator().manual_seed((aug_seed + 1) % 2**63)
        item["scene_images"] = augment_frames(images, generator)
        item["scene_state"] = torch.from_numpy(self.scenes.state[j]).repeat(self.history, 1)
        item["scene_goal"] = torch.from_numpy(self.scenes.goal[j])
        item["scene_instruction"] = str(self.scenes.instruction[j])
        return item


def collate_with_scenes(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """:func:`vla.data.torch_dataset.collate` plus the stacked ``scene_*`` fields, where the
    items have them (validation items do not)."""
    batch = collate(items)
    if "scene_images" not in items[0]:
        return batch
    for key in SCENE_KEYS:
        batch[key] = torch.stack([item[key] for item in items])
    batch["scene_instruction"] = [item["scene_instruction"] for item in items]
    return batch


def load_scenes(folders: str | Sequence[str], image_size: int, cameras: Sequence[str]) -> SceneSet:
    """The scene sets at ``folders`` (one folder or several, concatenated in order), each
    checked against the run (one-line errors)."""
    if isinstance(folders, str):
        return _load_one(folders, image_size, cameras)
    return SceneSet.concat([_load_one(str(f), image_size, cameras) for f in folders])


def _load_one(folder: str, image_size: int, cameras: Sequence[str]) -> SceneSet:
    try:
        scenes = SceneSet.load(folder)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from None
    if scenes.front.shape[1] != image_size:
        raise ValueError(
            f"scenes {folder!r} are {scenes.front.shape[1]} px but image_size={image_size}: "
            f"record them with vla-record-scenes image_size={image_size}"
        )
    missing = [cam for cam in cameras if not hasattr(scenes, cam)]
    if missing:
        raise ValueError(f"scenes {folder!r} have no camera {missing[0]!r}")
    return scenes


class CachedWithScenes:
    """Whole batches of a :class:`vla.training.cached_batches.CachedBatches` with one scene
    per item, as ``scene_*`` fields: the scene of item ``(index, aug_seed)`` is
    ``aug_seed % len(scenes)``, its frame repeated over the history and augmented from the item's
    seed + 1."""

    batched = True

    def __init__(self, frames: Any, scenes: SceneSet, cameras: Sequence[str]) -> None:
        self.frames, self.scenes, self.cameras = frames, scenes, tuple(cameras)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def item_episodes(self) -> np.ndarray:
        return self.frames.item_episodes

    def __getitem__(self, keys: Sequence[tuple[int, int]]) -> dict[str, Any]:
        batch = self.frames[keys]
        j = np.array([seed for _, seed in keys]) % len(self.scenes)
        frame = np.stack([getattr(self.scenes, cam)[j] for cam in self.cameras], axis=1)
        images = torch.from_numpy(frame).permute(0, 1, 4, 2, 3)[:, None]  # (B, 1, N, 3, H, W)
        images = images.expand(-1, self.frames.history, -1, -1, -1, -1)
        batch["scene_images"] = augment_batch(images, [seed + 1 for _, seed in keys])
        state = torch.from_numpy(self.scenes.state[j])[:, None]
        batch["scene_state"] = state.expand(-1, self.frames.history, -1).contiguous()
        batch["scene_goal"] = torch.from_numpy(self.scenes.goal[j])
        batch["scene_instruction"] = [str(s) for s in self.scenes.instruction[j]]
        return batch
