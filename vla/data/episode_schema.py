"""What one ``vla-episodes`` episode is: the dataset header, the arrays and index fields of
an episode (with their checks), and a buffer that assembles the arrays step by step.

The on-disk layout and its crash-safety live in :mod:`vla.data.episode_store`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from sim.contract import CAMERA_NAMES

FORMAT = "vla-episodes"
VERSION = 1
SPLITS = ("train", "val", "test")
DEFAULT_CAMERAS = CAMERA_NAMES
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

EpisodeKey = str | Sequence[str | int]


class EpisodeBuffer:
    """Accumulates the steps of one episode in memory; pass ``to_arrays()`` to add_episode."""

    def __init__(self, cameras: Sequence[str] = DEFAULT_CAMERAS) -> None:
        self.cameras = tuple(cameras)
        self._columns: dict[str, list[np.ndarray]] = {n: [] for n in (*cameras, "state", "action")}

    def __len__(self) -> int:
        return len(self._columns["action"])

    def add(self, images: Mapping[str, np.ndarray], state: np.ndarray, action: np.ndarray) -> None:
        """Append one step: images {camera: (H,W,3) uint8}, state (D,), action (A,).

        Arrays are copied (environments often reuse their buffers); state and action are
        converted to float32.
        """
        missing = [c for c in self.cameras if c not in images]
        if missing:
            raise ValueError(f"images lacks camera(s) {missing}; the buffer has {self.cameras}")
        for camera in self.cameras:
            self._columns[camera].append(np.array(images[camera], copy=True))
        self._columns["state"].append(np.array(state, dtype=np.float32, copy=True))
        self._columns["action"].append(np.array(action, dtype=np.float32, copy=True))

    def clear(self) -> None:
        for column in self._columns.values():
            column.clear()

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Stacked arrays: camera (T,H,W,3), state (T,D), action (T,A)."""
        if not len(self):
            raise ValueError("episode has no steps")
        arrays = {}
        for name, column in self._columns.items():
            try:
                arrays[name] = np.stack(column)
            except ValueError as error:
                shapes = sorted({a.shape for a in column})
                raise ValueError(f"{name} changes shape between steps: {shapes}") from error
        return arrays


def make_header(
    cameras: Sequence[str], image_size: tuple[int, int], state_dim: int, action_dim: int
) -> dict:
    """A ``dataset.json`` object for new datasets; ValueError on bad settings."""
    cameras = list(cameras)
    bad = [c for c in cameras if not isinstance(c, str) or not _NAME.match(c)]
    if not cameras or bad or len(set(cameras)) != len(cameras) or {"state", "action"} & {*cameras}:
        raise ValueError(f"cameras must be distinct names like 'front' (not state/action): {bad}")
    size = [int(s) for s in image_size]
    if len(size) != 2 or min(size) < 1 or min(state_dim, action_dim) < 1:
        raise ValueError(f"bad image_size {image_size} or dims {state_dim}, {action_dim}")
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cameras": cameras,
        "image_size": size,
        "state_dim": int(state_dim),
        "action_dim": int(action_dim),
    }


def validate_arrays(arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> int:
    """Check an episode's arrays against the header; return T or raise ValueError."""
    height, width = header["image_size"]
    expected = {c: ((height, width, 3), np.uint8) for c in header["cameras"]}
    expected["state"] = ((header["state_dim"],), np.float32)
    expected["action"] = ((header["action_dim"],), np.float32)
    for name in arrays:
        if name not in expected:
            raise ValueError(f"unexpected array {name!r}; an episode has {list(expected)}")
    n_steps = None
    for name, (tail, dtype) in expected.items():
        array = arrays.get(name)
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{name} must be a numpy array, got {type(array).__name__}")
        want = f"(T, {', '.join(map(str, tail))}) {np.dtype(dtype).name}"
        if array.dtype != dtype or array.shape[1:] != tail or array.ndim != 1 + len(tail):
            raise ValueError(f"{name} is {array.shape} {array.dtype}, expected {want}")
        if n_steps is not None and len(array) != n_steps:
            raise ValueError(f"{name} has {len(array)} steps, the other arrays {n_steps}")
        n_steps = len(array)
        if dtype == np.float32 and not np.isfinite(array).all():
            step = int(np.argwhere(~np.isfinite(array))[0][0])
            raise ValueError(f"{name} is NaN or inf at step {step}")
    if not n_steps:
        raise ValueError("episode has no steps")
    return n_steps


def episode_fields(
    key: EpisodeKey,
    instruction: str,
    split: str,
    task: str,
    family: str,
    skill: str,
    scene: str,
    seed: int | None,
    success: bool,
) -> dict:
    """The index fields of an episode, type-checked; ValueError naming a bad field."""
    fields: dict[str, Any] = {"key": normalize_key(key)}
    texts = dict(instruction=instruction, task=task, family=family, skill=skill, scene=scene)
    for name, value in texts.items():
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a str, got {type(value).__name__}")
        fields[name] = value
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise ValueError(f"seed must be an int or None, got {seed!r}")
    if not isinstance(success, bool | np.bool_):
        raise ValueError(f"success must be a bool, got {success!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    fields.update(seed=None if seed is None else int(seed), split=split, success=bool(success))
    return fields


def normalize_key(key: EpisodeKey) -> str:
    """A resume key as stored: a str as is, a tuple/list of parts joined by "/"."""
    if isinstance(key, str):
        text = key
    elif isinstance(key, Sequence) and key:
        text = "/".join(str(part) for part in key)
    else:
        raise ValueError(f"key must be a str or a tuple of parts, got {key!r}")
    if not text:
        raise ValueError("key must not be empty")
    return text


def meta_dict(meta: Mapping[str, Any] | None) -> dict:
    """A copy of an episode's free-form ``meta``; ValueError if it is not a mapping."""
    if meta is not None and not isinstance(meta, Mapping):
        raise ValueError(f"meta must be a dict, got {type(meta).__name__}")
    return dict(meta or {})


def as_arrays(
    steps_or_arrays: Mapping[str, np.ndarray] | Iterable[Mapping[str, Any]],
    cameras: Sequence[str],
) -> Mapping[str, np.ndarray]:
    """Arrays as given, or the stacked arrays of a list of ``{images, state, action}`` steps."""
    if isinstance(steps_or_arrays, Mapping):
        return steps_or_arrays
    buffer = EpisodeBuffer(cameras)
    for step in steps_or_arrays:
        buffer.add(step["images"], step["state"], step["action"])
    return buffer.to_arrays()
