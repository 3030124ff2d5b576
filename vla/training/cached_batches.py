"""Whole training batches gathered from a :class:`~vla.data.frame_cache.FrameCache`.

A batch is built in one go rather than item by item: one fancy index into the memory-mapped
frames, then shifts and colour jitter applied to the whole batch as tensors. The items are
the same as :class:`vla.data.torch_dataset.FrameDataset`'s (one step with its ``history``
frames; steps before an episode's start repeat its first frame), and with ``chunk`` = k > 1
the action is the next k actions of the episode (its last action repeated past its end).

Keys are ``(index, aug_seed)`` as in :mod:`vla.training.data`; each item's augmentation is
drawn from its own seed, so an item is a pure function of its key: a resumed run sees exactly
the batches it would have seen, and two half batches hold the items of the whole one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import as_strided

from vla.data.frame_cache import FrameCache
from vla.policies.rt1.goals import goal_offsets

MAX_SHIFT = 2  # pixels
BRIGHTNESS, CONTRAST = 0.1, 0.1


class CachedBatches:
    """Batches of the steps of ``episode_ids``; ``batches[keys]`` -> one collated batch.

    Args:
        cache: the dataset's frame cache (it must hold every episode named).
        episode_ids: the episodes whose steps are items, in order.
        history: frames per item, oldest first.
        chunk: actions per item (the current one and the next k - 1).
        augment: shift and colour-jitter the frames.
    """

    batched = True  # the loop hands this whole batches of keys (vla.training.data)

    def __init__(
        self,
        cache: FrameCache,
        episode_ids: Sequence[int],
        history: int,
        chunk: int = 1,
        augment: bool = True,
    ) -> None:
        self.cache, self.history, self.chunk, self.augment = cache, history, chunk, augment
        self.episode_ids = [int(i) for i in episode_ids]
        starts, ends, rows, instruction = [], [], [], []
        for episode_id in self.episode_ids:
            first, n = cache.rows_of[episode_id]
            rows.append(np.arange(first, first + n))
            starts.append(np.full(n, first))
            ends.append(np.full(n, first + n - 1))
            instruction += [cache.store.record(episode_id)["instruction"]] * n
        self.rows = np.concatenate(rows) if rows else np.zeros(0, int)
        self.first = np.concatenate(starts) if starts else np.zeros(0, int)
        self.last = np.concatenate(ends) if ends else np.zeros(0, int)
        self.instruction = instruction
        self.episode = np.repeat(self.episode_ids, [cache.rows_of[i][1] for i in self.episode_ids])
        self.goal, self.goal_valid = self._goals()

    def _goals(self) -> tuple[np.ndarray, np.ndarray]:
        """The goal head's targets of every item (:mod:`vla.policies.rt1.goals`)."""
        goal = np.zeros((len(self.rows), 3), np.float32)
        valid = np.zeros(len(self.rows), bool)
        at = 0
        for episode_id in self.episode_ids:
            first, n = self.cache.rows_of[episode_id]
            span = slice(first, first + n)
            goal[at : at + n], valid[at : at + n] = goal_offsets(
                self.cache.state[span], self.cache.action[span]
            )
            at += n
        return goal, valid

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def item_episodes(self) -> np.ndarray:
        """The episode id of every item (for weighted sampling, :mod:`vla.training.sampling`)."""
        return self.episode

    def __getitem__(self, keys: Sequence[tuple[int, int]]) -> dict[str, Any]:
        index = np.array([k for k, _ in keys])
        rows = self.rows[index]
        past = np.maximum(
            rows[:, None] - np.arange(self.history - 1, -1, -1), self.first[index, None]
        )
        frames = torch.from_numpy(self.cache.frames[past.ravel()])  # (B*T, N, 3, H, W)
        images = frames.view(len(keys), self.history, *frames.shape[1:])
        if self.augment:
            images = augment_batch(images, [seed for _, seed in keys])
        future = np.minimum(rows[:, None] + np.arange(self.chunk), self.last[index, None])
        action = self.cache.action[future]  # (B, k, 11)
        return {
            "images": images,
            "state": torch.from_numpy(self.cache.state[past]),
            "action": torch.from_numpy(action[:, 0] if self.chunk == 1 else action),
            "goal": torch.from_numpy(self.goal[index]),
            "goal_valid": torch.from_numpy(self.goal_valid[index]),
            "instruction": [self.instruction[i] for i in index],
            "episode_id": torch.from_numpy(self.episode[index]),
            "step": torch.from_numpy(rows - self.first[index]),
        }

    def sequential(self, batch_size: int) -> list[list[tuple[int, int]]]:
        """Keys of every item in order, in batches (for validation; no augmentation seeds)."""
        keys = [(i, 0) for i in range(len(self))]
        return [keys[i : i + batch_size] for i in range(0, len(keys), batch_size)]


def augment_batch(images: torch.Tensor, seeds: Sequence[int]) -> torch.Tensor:
    """Shift and colour-jitter uint8 frames (B, T, N, 3, H, W), one draw per (item, camera)
    from the item's seed, shared by its history frames (so motion between them stays real): a
    shift of up to ``MAX_SHIFT`` pixels (edges replicated), contrast scaled by 1 +- ``CONTRAST``
    around the mean, brightness offset by up to +-``BRIGHTNESS`` * 255.

    Written for speed (about 1.5 ms for 64 items of two 64 px cameras on 2 cores; drawing
    and shifting item by item took 9-12 ms): the draws are one vectorised hash of the seeds,
    the shift one numpy gather of windows of the padded frames, the jitter one affine pass."""
    b, t, n, c, h, w = images.shape
    m, span = b * n, 2 * MAX_SHIFT + 1
    draws = item_draws(seeds, n)  # (B*N, 4)
    dy, dx = (draws[:, 0] * span).long().numpy(), (draws[:, 1] * span).long().numpy()
    flat = images.transpose(1, 2).reshape(m, t * c, h, w)
    padded = F.pad(flat, (MAX_SHIFT,) * 4, mode="replicate").numpy()
    sm, sc, sh, sw = padded.strides  # every (dy, dx) window of every image, as a view
    windows = as_strided(padded, (m, span, span, t * c, h, w), (sm, sh, sw, sc, sh, sw))
    out = torch.from_numpy(windows[np.arange(m), dy, dx]).float()  # (B*N, T*3, H, W)
    gain = 1 + CONTRAST * (2 * draws[:, 2] - 1)
    offset = 255 * BRIGHTNESS * (2 * draws[:, 3] - 1)
    # (x - mean) * gain + mean + offset as x * gain + bias; the + 0.5 rounds, as the cast to
    # uint8 truncates what the clamp left in [0, 255]
    bias = out.mean((1, 2, 3)) * (1 - gain) + offset + 0.5
    out = out.mul_(gain.view(m, 1, 1, 1)).add_(bias.view(m, 1, 1, 1)).clamp_(0, 255)
    return out.to(torch.uint8).view(b, n, t, c, h, w).transpose(1, 2).contiguous()


def item_draws(seeds: Sequence[int], cameras: int) -> torch.Tensor:
    """(len(seeds) * cameras, 4) uniform draws in [0, 1): per (item, camera) the shifts dy, dx
    and the gain and offset of the jitter, each a pure function of the item's seed (SplitMix64
    of the seed, then of each draw's counter)."""
    counters = np.arange(cameras * 4, dtype=np.uint64)
    bits = splitmix64(splitmix64(np.asarray(seeds, dtype=np.uint64))[:, None] + counters)
    uniform = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return torch.from_numpy(uniform.reshape(-1, 4).astype(np.float32))


def splitmix64(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 mixer (Steele, Lea and Flood, 2014) on uint64 arrays (wrapping)."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
