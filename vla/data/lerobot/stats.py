"""``meta/stats.json`` of a LeRobot v3 export: per feature ``min``, ``max``, ``mean``,
``std``, ``count`` and the quantiles ``q01``, ``q10``, ``q50``, ``q90``, ``q99``, as LeRobot's
``compute_stats.py`` writes them.

Vectors (state, action, the index columns) are reduced over all frames, per dimension.
Images are reduced per channel over pixels scaled to [0, 1], shaped (3, 1, 1) like
LeRobot's; as LeRobot does, from a sample of each episode's frames (``IMAGE_SAMPLES`` evenly
spaced), not every frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np

QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}
IMAGE_SAMPLES = 8  # frames per episode that enter the image statistics


def sample_frames(frames: np.ndarray) -> np.ndarray:
    """Up to ``IMAGE_SAMPLES`` evenly spaced frames of a (T, H, W, 3) episode."""
    index = np.unique(np.linspace(0, len(frames) - 1, min(IMAGE_SAMPLES, len(frames))).astype(int))
    return frames[index]


def feature_stats(values: np.ndarray) -> dict[str, list]:
    """Stats of (N, D) values per dimension (D may be 1 for a scalar column)."""
    values = np.asarray(values, np.float64).reshape(len(values), -1)
    stats = {
        "min": values.min(0),
        "max": values.max(0),
        "mean": values.mean(0),
        "std": values.std(0),
    }
    stats.update({k: np.quantile(values, q, axis=0) for k, q in QUANTILES.items()})
    return {**{k: v.tolist() for k, v in stats.items()}, "count": [len(values)]}


def image_stats(frames: np.ndarray) -> dict[str, list]:
    """Per-channel stats of (N, H, W, 3) uint8 frames scaled to [0, 1], shaped (3, 1, 1)."""
    pixels = frames.reshape(-1, 3).astype(np.float32) / 255.0
    stats = feature_stats(pixels)
    count = [len(frames)]
    return {k: [[[x]] for x in v] for k, v in stats.items() if k != "count"} | {"count": count}


def dataset_stats(columns: dict[str, np.ndarray], images: dict[str, np.ndarray]) -> dict[str, Any]:
    """``meta/stats.json``: ``columns`` {feature: (N, D) or (N,) values}, ``images`` {video
    key: (N, H, W, 3) uint8 sampled frames}."""
    stats = {name: feature_stats(values) for name, values in columns.items()}
    stats.update({key: image_stats(frames) for key, frames in images.items()})
    return stats
