"""Read a LeRobotDataset v3.x folder into a ``vla-episodes`` dataset (a converter).

Why a converter and not a second reader: everything that reads data (the training loop,
``FrameDataset``, the frame cache, the RT-2 VQA mix) reads an ``EpisodeStore``, which decodes
whole episodes from one file. Decoding mp4 on every training access would cost more than
the model; a one-time conversion (about the export's time) keeps one reader and one format.

:class:`LeRobotMapping` maps another robot's features onto our contract: which video
features are our ``front`` and ``wrist`` cameras, and which source dimension fills each of
our 10 state and 11 action dimensions (-1: zero). The defaults are the identity on a dataset
with our layout (one we exported). The mapping is mechanical: units, frames and signs are
the source's (RT-1's actions lie in [-1, 1]: scale another arm's actions into that range
when exporting or mapping them, and check the gripper's sign).

Our own episode fields come back from the ``vla/`` columns of the episodes table when they
are there (a round trip keeps split, skill, seed, success, key and meta); for another
dataset each episode is ``split=train``, ``success=true``, key ``lerobot/<episode_index>``,
and its instruction is its first task.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from sim.contract import ACTION_DIM, CAMERA_NAMES, STATE_DIM
from vla.data.episode_store import EpisodeStore
from vla.data.lerobot.layout import INFO_PATH, read_info, video_key
from vla.data.lerobot.tasks import read_tasks
from vla.data.lerobot.video import read_frames


@dataclass
class LeRobotMapping:
    """How a LeRobot dataset's features become our observation and action (``vla-train
    lerobot.*``)."""

    # our camera -> the LeRobot video feature holding it
    cameras: dict[str, str] = field(default_factory=lambda: {c: video_key(c) for c in CAMERA_NAMES})
    state_key: str = "observation.state"
    action_key: str = "action"
    # the source dimension of each of our 10 state dims (-1: zero); None: the identity
    state: list[int] | None = None
    # the source dimension of each of our 11 action dims (-1: zero, so mode 0 = arm); None: identity
    action: list[int] | None = None
    image_size: int | None = None  # resize frames to this square size; None: keep the source's


def is_lerobot_dataset(path: str | Path) -> bool:
    """Whether ``path`` looks like a LeRobot dataset folder (has ``meta/info.json``)."""
    return (Path(path) / INFO_PATH).is_file()


def import_lerobot(
    source: str | Path, output_dir: str | Path, mapping: LeRobotMapping | None = None
) -> EpisodeStore:
    """Convert the LeRobot v3 folder ``source`` into a new dataset at ``output_dir`` (written
    under a temporary name, renamed at the end); returns it opened read-only.

    Raises:
        ValueError: not a v3 dataset, a feature the mapping names is missing or has too few
            dimensions, a video shorter than its episodes, or ``output_dir`` exists.
    """
    src, out = Path(source), Path(output_dir)
    mapping = mapping or LeRobotMapping()
    info = read_info(src)
    if out.exists():
        raise ValueError(f"output_dir {out} exists; give a new folder")
    state_index = _dims(info, mapping.state_key, mapping.state, STATE_DIM)
    action_index = _dims(info, mapping.action_key, mapping.action, ACTION_DIM)
    size = _image_size(info, mapping)
    episodes = _read_episodes(src)
    tasks = read_tasks(src)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with EpisodeStore.create(tmp, image_size=size, cameras=list(mapping.cameras)) as store:
            readers = {c: _FrameReader(src, info, key, size) for c, key in mapping.cameras.items()}
            for row, steps in tqdm(
                _episode_steps(src, info, episodes, mapping),
                total=len(episodes),
                desc="import",
                disable=None,
            ):
                arrays = {c: readers[c].episode(row) for c in mapping.cameras}
                arrays["state"] = _take(steps[mapping.state_key], state_index)
                arrays["action"] = _take(steps[mapping.action_key], action_index)
                store.add_episode(arrays, **_fields(row, steps, tasks))
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return EpisodeStore.open(out)


def _dims(info: dict, key: str, index: list[int] | None, ours: int) -> np.ndarray:
    feature = info["features"].get(key)
    if feature is None:
        raise ValueError(f"the dataset has no feature {key!r}; features: {list(info['features'])}")
    have = int(np.prod(feature["shape"]))
    if index is None:
        if have != ours:
            raise ValueError(
                f"{key} has {have} dims, ours {ours}: map them with lerobot."
                f"{'state' if ours == STATE_DIM else 'action'}=[...] (a source dim or -1 each)"
            )
        return np.arange(ours)
    index = np.asarray(list(index), int)
    if len(index) != ours or index.max(initial=-1) >= have or index.min(initial=0) < -1:
        raise ValueError(f"the mapping for {key} needs {ours} entries in [-1, {have - 1}]")
    return index


def _image_size(info: dict, mapping: LeRobotMapping) -> tuple[int, int]:
    shapes = set()
    for camera, key in mapping.cameras.items():
        feature = info["features"].get(key)
        if feature is None or feature.get("dtype") != "video":
            raise ValueError(f"camera {camera}: {key!r} is not a video feature of this dataset")
        shapes.add(tuple(feature["shape"][:2]))
    if mapping.image_size:
        return (mapping.image_size, mapping.image_size)
    if len(shapes) != 1:
        raise ValueError(f"cameras differ in size {sorted(shapes)}: set lerobot.image_size")
    return shapes.pop()


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Columns ``index`` of (T, D) ``values``; -1 gives zeros."""
    out = values[:, np.maximum(index, 0)].astype(np.float32)
    out[:, index < 0] = 0.0
    return out


def _read_episodes(root: Path) -> list[dict[str, Any]]:
    files = sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
    if not files:
        raise ValueError(f"{root} has no meta/episodes/chunk-*/file-*.parquet")
    rows = [row for f in files for row in pq.read_table(f).to_pylist()]
    return sorted(rows, key=lambda r: r["episode_index"])


def _episode_steps(
    root: Path, info: dict, episodes: list[dict], mapping: LeRobotMapping
) -> Iterator[tuple[dict, dict[str, np.ndarray]]]:
    """(episode row, its frame columns sorted by frame_index) for each episode in order."""
    columns = [mapping.state_key, mapping.action_key, "episode_index", "frame_index", "task_index"]
    loaded: tuple[Path, dict[int, dict[str, np.ndarray]]] | None = None
    for row in episodes:
        path = root / info["data_path"].format(
            chunk_index=row["data/chunk_index"], file_index=row["data/file_index"]
        )
        if loaded is None or loaded[0] != path:
            loaded = (path, _by_episode(pq.read_table(path, columns=columns)))
        steps = loaded[1].get(row["episode_index"])
        if steps is None or len(steps["frame_index"]) != row["length"]:
            raise ValueError(f"{path} lacks frames of episode {row['episode_index']}")
        yield row, steps


def _column(column: Any) -> np.ndarray:
    """A parquet column as numpy: (N,) scalars or (N, D) vectors."""
    column = column.combine_chunks()
    if pa.types.is_fixed_size_list(column.type):
        flat = column.flatten().to_numpy(zero_copy_only=False)
        return flat.reshape(len(column), column.type.list_size)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        return np.asarray(column.to_pylist(), np.float64)
    return column.to_numpy(zero_copy_only=False)


def _by_episode(table: Any) -> dict[int, dict[str, np.ndarray]]:
    """episode_index -> its frame columns, sorted by frame_index."""
    arrays = {name: _column(table[name]) for name in table.column_names}
    out = {}
    for e in np.unique(arrays["episode_index"]):
        rows = np.flatnonzero(arrays["episode_index"] == e)
        rows = rows[np.argsort(arrays["frame_index"][rows], kind="stable")]
        out[int(e)] = {k: v[rows] for k, v in arrays.items()}
    return out


def _fields(row: dict, steps: dict, tasks: dict[int, str]) -> dict[str, Any]:
    """``add_episode``'s keyword fields for an episode row."""
    task_text = tasks.get(int(steps["task_index"][0])) or (row.get("tasks") or [""])[0]
    if "vla/key" not in row:
        return dict(key=f"lerobot/{row['episode_index']}", instruction=task_text, split="train")
    meta = json.loads(row.get("vla/meta") or "{}")
    return {
        "key": row["vla/key"],
        "instruction": row["vla/instruction"],
        "split": row["vla/split"],
        "task": row["vla/task"],
        "family": row["vla/family"],
        "skill": row["vla/skill"],
        "scene": row["vla/scene"],
        "seed": row["vla/seed"],
        "success": bool(row["vla/success"]),
        "meta": meta,
    }


class _FrameReader:
    """One camera's frames, episode by episode, decoding each mp4 once when episodes come in
    file order (the usual case), re-opening it when one comes out of order."""

    def __init__(self, root: Path, info: dict, key: str, size: tuple[int, int]) -> None:
        self.root, self.info, self.key, self.size = root, info, key, size
        self.fps = float(info["fps"])
        self.path: Path | None = None
        self.frames: Iterator[tuple[float, np.ndarray]] = iter(())
        self.pending: tuple[float, np.ndarray] | None = None
        self.position = 0.0  # time (s) of the first frame not yet consumed from the file

    def episode(self, row: dict) -> np.ndarray:
        """(length, H, W, 3) uint8 frames of the episode ``row``."""
        prefix = f"videos/{self.key}"
        path = self.root / self.info["video_path"].format(
            video_key=self.key,
            chunk_index=row[f"{prefix}/chunk_index"],
            file_index=row[f"{prefix}/file_index"],
        )
        start, n = float(row[f"{prefix}/from_timestamp"]), int(row["length"])
        if path != self.path or self.position > start + 0.5 / self.fps:  # out of file order
            self.path, self.frames, self.pending = path, read_frames(path, self.size), None
            self.position = 0.0
        out = []
        while True:
            item = self.pending if self.pending is not None else next(self.frames, None)
            self.pending = None
            if item is None:
                break
            t, image = item
            self.position = t
            if t < start - 0.5 / self.fps:
                continue  # an earlier episode's frame
            if t >= start + (n - 0.5) / self.fps:
                self.pending = item  # the next episode's first frame
                break
            out.append(image)
        if len(out) != n:
            raise ValueError(
                f"{path} has {len(out)} frames for episode {row['episode_index']}, its data {n}"
            )
        return np.stack(out)


def imported_for_training(
    source: str | Path, output_dir: str | Path, mapping: LeRobotMapping
) -> Path:
    """The conversion of ``source`` in ``output_dir/lerobot_import`` (made if missing or if
    the source or mapping changed since; ``lerobot_import.json`` records what it was made
    from), so that a resumed run reuses it."""
    out = Path(output_dir) / "lerobot_import"
    stamp_file = out.with_suffix(".json")
    src = Path(source).resolve()
    files = sorted(p for p in src.rglob("*") if p.is_file())
    stamp = {
        "source": str(src),
        "files": [[str(p.relative_to(src)), p.stat().st_size, p.stat().st_mtime_ns] for p in files],
        "mapping": dataclasses.asdict(mapping),
    }
    if out.exists() and stamp_file.is_file() and json.loads(stamp_file.read_text()) == stamp:
        return out
    shutil.rmtree(out, ignore_errors=True)
    stamp_file.unlink(missing_ok=True)
    import_lerobot(src, out, mapping)
    stamp_file.write_text(json.dumps(stamp))
    return out
