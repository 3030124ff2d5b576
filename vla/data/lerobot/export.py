"""``vla-export``: write a ``vla-episodes`` dataset as a LeRobotDataset v3.0 folder.

Every committed episode is exported (markers are not: they carry no frames), ordered by
split (train, val, test), then by episode id, so that ``info.json``'s ``splits`` are ranges.
An episode's task (LeRobot's ``task``) is its ``instruction``, the text the policy is
conditioned on. Our other index fields travel as columns of the episodes table:
``vla/episode_id``, ``vla/key``, ``vla/instruction``, ``vla/task``, ``vla/family``,
``vla/skill``, ``vla/scene``, ``vla/seed`` (null when unknown), ``vla/split``,
``vla/success``, ``vla/meta`` (the free-form meta as JSON text).

The folder is written under ``<output_dir>.tmp-<pid>`` and renamed into place at the end, so
a crash or Ctrl-C never leaves a half dataset under the name asked for.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from sim.contract import CONTROL_HZ
from sim.registry import Registry
from vla.data.episode_schema import SPLITS
from vla.data.episode_store import EpisodeStore
from vla.data.lerobot.layout import (
    DATA_PATH,
    EPISODES_PATH,
    INFO_PATH,
    STATS_PATH,
    VIDEO_PATH,
    chunk_file,
    make_info,
    video_key,
)
from vla.data.lerobot.stats import dataset_stats, sample_frames
from vla.data.lerobot.tasks import write_tasks
from vla.data.lerobot.video import CODEC_NAME, VideoWriter
from vla.options import at_least, one_of

EXPORT_FORMATS: Registry[Any] = Registry("export format")
PIX_FMTS = ("yuv420p", "yuv444p")
VLA_FIELDS = ("key", "instruction", "task", "family", "skill", "scene", "split")


@dataclass
class ExportConfig:
    """Options of ``vla-export`` (configs/export.yaml)."""

    data: str = "data/demos"  # the vla-episodes dataset to export
    output_dir: str = "outputs/lerobot"  # the folder to create (must not exist)
    format: str = "lerobot"  # registered export formats: lerobot (LeRobotDataset v3.0)
    episodes_per_file: int = 500  # episodes per data parquet and per mp4
    crf: int = 18  # H.264 quality: 0 lossless (with yuv444p) .. 51 worst
    pix_fmt: str = "yuv420p"  # yuv420p: plays everywhere; yuv444p: full colour resolution

    def __post_init__(self) -> None:
        EXPORT_FORMATS.get(self.format)
        at_least(self, 1, "episodes_per_file")
        one_of(self, "pix_fmt", PIX_FMTS)
        if not 0 <= self.crf <= 51:
            raise ValueError(f"crf={self.crf}: give 0 (lossless) to 51")


def export(cfg: ExportConfig) -> Path:
    """``vla-export``'s job: export ``cfg.data`` in ``cfg.format``; returns the folder."""
    path = EXPORT_FORMATS.get(cfg.format)(
        cfg.data, cfg.output_dir, cfg.episodes_per_file, cfg.crf, cfg.pix_fmt
    )
    print(f"vla-export: wrote {path} ({_size_mb(path):.1f} MB)")
    return path


@EXPORT_FORMATS.register("lerobot")
def export_lerobot(
    data: str | Path,
    output_dir: str | Path,
    episodes_per_file: int = 500,
    crf: int = 18,
    pix_fmt: str = "yuv420p",
) -> Path:
    """Write the dataset at ``data`` as LeRobotDataset v3.0 at ``output_dir``; returns it.

    Raises:
        ValueError: ``data`` is not a dataset or has no episodes; ``output_dir`` exists.
    """
    out = Path(output_dir)
    if out.exists():
        raise ValueError(f"output_dir {out} exists; give a new folder (nothing was written)")
    try:
        store = EpisodeStore.open(data)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from None
    records = sorted(store.episodes(), key=lambda r: (SPLITS.index(r["split"]), r["episode_id"]))
    if not records:
        raise ValueError(f"dataset {data} has no episodes to export")
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _Exporter(store, tmp, crf, pix_fmt).run(records, episodes_per_file)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


class _Exporter:
    """Writes the files of one export; ``run`` does it all."""

    def __init__(self, store: EpisodeStore, root: Path, crf: int, pix_fmt: str) -> None:
        self.store, self.root, self.crf, self.pix_fmt = store, root, crf, pix_fmt
        self.tasks: dict[str, int] = {}  # instruction -> task_index, in order of appearance
        self.columns: dict[str, list[np.ndarray]] = defaultdict(list)  # for stats.json
        self.samples: dict[str, list[np.ndarray]] = defaultdict(list)
        self.frames = 0  # frames written so far: the next frame's global index

    def run(self, records: list[dict], per_file: int) -> None:
        bar = tqdm(total=len(records), desc="export", unit="ep", disable=None)
        for number, start in enumerate(range(0, len(records), per_file)):
            group = records[start : start + per_file]
            self.write_file(number, group, start, bar)
        bar.close()
        write_tasks(self.root, list(self.tasks))
        columns = {k: np.concatenate(v) for k, v in self.columns.items()}
        samples = {k: np.concatenate(v) for k, v in self.samples.items()}
        _write_json(self.root / STATS_PATH, dataset_stats(columns, samples))
        counts = {
            "total_episodes": len(records),
            "total_frames": self.frames,
            "total_tasks": len(self.tasks),
        }
        info = make_info(
            list(self.store.cameras),
            self.store.image_size,
            counts,
            _splits(records),
            CODEC_NAME,
            self.pix_fmt,
        )
        _write_json(self.root / INFO_PATH, info)

    def write_file(self, number: int, records: list[dict], first: int, bar: tqdm) -> None:
        """Data parquet, one mp4 per camera and the episodes parquet of file ``number``."""
        where = chunk_file(number)
        cameras = self.store.cameras
        videos = {
            c: VideoWriter(
                self.root / VIDEO_PATH.format(video_key=video_key(c), **where),
                self.store.image_size,
                CONTROL_HZ,
                self.crf,
                self.pix_fmt,
            )
            for c in cameras
        }
        frames: dict[str, list[np.ndarray]] = defaultdict(list)
        episodes: list[dict[str, Any]] = []
        try:
            for offset, record in enumerate(records):
                arrays = self.store.load_episode(record["episode_id"])
                start_s = videos[cameras[0]].frames / CONTROL_HZ
                for camera in cameras:
                    videos[camera].write(arrays[camera])
                    self.samples[video_key(camera)].append(sample_frames(arrays[camera]))
                row = self.frame_rows(first + offset, record, arrays, frames)
                episodes.append(self.episode_row(first + offset, record, where, start_s, row))
                bar.update()
        finally:
            for video in videos.values():
                video.close()
        data_file = self.root / DATA_PATH.format(**where)
        data_file.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(_frames_table(frames), data_file)
        episodes_file = self.root / EPISODES_PATH.format(**where)
        episodes_file.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.Table.from_pylist(episodes, schema=_episodes_schema(cameras)), episodes_file
        )

    def frame_rows(
        self, episode_index: int, record: dict, arrays: dict, frames: dict[str, list]
    ) -> tuple[int, int]:
        """Append the episode's frame columns; returns its (from, to) global frame index."""
        n = record["n_steps"]
        task_index = self.tasks.setdefault(record["instruction"], len(self.tasks))
        frame_index = np.arange(n, dtype=np.int64)
        columns = {
            "action": arrays["action"],
            "observation.state": arrays["state"],
            "timestamp": (frame_index / CONTROL_HZ).astype(np.float32),
            "frame_index": frame_index,
            "episode_index": np.full(n, episode_index, np.int64),
            "index": self.frames + frame_index,
            "task_index": np.full(n, task_index, np.int64),
        }
        for name, values in columns.items():
            frames[name].append(values)
            self.columns[name].append(values)
        span = (self.frames, self.frames + n)
        self.frames += n
        return span

    def episode_row(
        self, episode_index: int, record: dict, where: dict, start_s: float, span: tuple[int, int]
    ) -> dict[str, Any]:
        """One row of ``meta/episodes``: LeRobot's columns, then ours under ``vla/``."""
        n = record["n_steps"]
        row: dict[str, Any] = {
            "episode_index": episode_index,
            "tasks": [record["instruction"]],
            "length": n,
            "data/chunk_index": where["chunk_index"],
            "data/file_index": where["file_index"],
            "dataset_from_index": span[0],
            "dataset_to_index": span[1],
        }
        for camera in self.store.cameras:
            prefix = f"videos/{video_key(camera)}"
            row[f"{prefix}/chunk_index"] = where["chunk_index"]
            row[f"{prefix}/file_index"] = where["file_index"]
            row[f"{prefix}/from_timestamp"] = start_s
            row[f"{prefix}/to_timestamp"] = start_s + n / CONTROL_HZ
        row["meta/episodes/chunk_index"] = where["chunk_index"]
        row["meta/episodes/file_index"] = where["file_index"]
        row["vla/episode_id"] = record["episode_id"]
        row.update({f"vla/{k}": record[k] for k in VLA_FIELDS})
        row.update({"vla/seed": record["seed"], "vla/success": record["success"]})
        row["vla/meta"] = json.dumps(record.get("meta", {}), ensure_ascii=False)
        return row


def _frames_table(frames: dict[str, list[np.ndarray]]) -> pa.Table:
    """The data parquet: vectors as fixed-size lists (LeRobot's Sequence(length=D))."""
    columns = {}
    for name, parts in frames.items():
        values = np.concatenate(parts)
        if values.ndim == 2:
            flat = pa.array(values.reshape(-1).astype(np.float32))
            columns[name] = pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
        else:
            columns[name] = pa.array(values)
    return pa.table(columns)


def _episodes_schema(cameras: tuple[str, ...]) -> pa.Schema:
    fields = [
        ("episode_index", pa.int64()),
        ("tasks", pa.list_(pa.string())),
        ("length", pa.int64()),
        ("data/chunk_index", pa.int64()),
        ("data/file_index", pa.int64()),
        ("dataset_from_index", pa.int64()),
        ("dataset_to_index", pa.int64()),
    ]
    for camera in cameras:
        prefix = f"videos/{video_key(camera)}"
        fields += [(f"{prefix}/chunk_index", pa.int64()), (f"{prefix}/file_index", pa.int64())]
        fields += [
            (f"{prefix}/from_timestamp", pa.float64()),
            (f"{prefix}/to_timestamp", pa.float64()),
        ]
    fields += [("meta/episodes/chunk_index", pa.int64()), ("meta/episodes/file_index", pa.int64())]
    fields += [("vla/episode_id", pa.int64())]
    fields += [(f"vla/{k}", pa.string()) for k in VLA_FIELDS]
    fields += [("vla/seed", pa.int64()), ("vla/success", pa.bool_()), ("vla/meta", pa.string())]
    return pa.schema(fields)


def _splits(records: list[dict]) -> dict[str, str]:
    """``{"train": "0:N", ...}``: each split's episode range (records are sorted by split)."""
    splits, start = {}, 0
    for split in SPLITS:
        n = sum(r["split"] == split for r in records)
        if n:
            splits[split] = f"{start}:{start + n}"
        start += n
    return splits


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n")


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6
