"""LeRobotDataset v3.0's file layout and ``meta/info.json``, as LeRobot's
``src/lerobot/datasets/utils.py`` defines them (checked against its source, 2026-12)::

    meta/info.json                                   codebase_version "v3.0", fps, features, ...
    meta/stats.json                                  per-feature min/max/mean/std/count/q01..q99
    meta/tasks.parquet                               task (the index) -> task_index
    meta/episodes/chunk-000/file-000.parquet         one row per episode
    data/chunk-000/file-000.parquet                  one row per frame
    videos/<video key>/chunk-000/file-000.mp4        the frames of that data file's episodes

A file holds whole episodes, one after another; a chunk folder holds at most
``CHUNKS_SIZE`` files. Our cameras are the video features ``observation.images.<camera>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.contract import ACTION_NAMES, CONTROL_HZ

CODEBASE_VERSION = "v3.0"
ROBOT_TYPE = "mobile_panda"  # the simulated Franka Panda on a mobile base (sim/robot.py)
CHUNKS_SIZE = 1000  # files per chunk folder, LeRobot's DEFAULT_CHUNK_SIZE
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
INFO_PATH, STATS_PATH, TASKS_PATH = "meta/info.json", "meta/stats.json", "meta/tasks.parquet"
STATE_NAMES = (  # sim.contract.STATE_LAYOUT, one name per dimension
    "ee_x", "ee_y", "ee_z", "ee_roll", "ee_pitch", "ee_yaw",
    "gripper_opening", "base_x", "base_y", "base_yaw",
)  # fmt: skip
INDEX_FEATURES = {  # LeRobot's DEFAULT_FEATURES
    "timestamp": "float32",
    "frame_index": "int64",
    "episode_index": "int64",
    "index": "int64",
    "task_index": "int64",
}


def video_key(camera: str) -> str:
    return f"observation.images.{camera}"


def chunk_file(file_number: int) -> dict[str, int]:
    """The ``chunk_index`` and ``file_index`` of the ``file_number``-th file (from 0)."""
    return {"chunk_index": file_number // CHUNKS_SIZE, "file_index": file_number % CHUNKS_SIZE}


def video_feature(height: int, width: int, fps: int, codec: str, pix_fmt: str) -> dict[str, Any]:
    return {
        "dtype": "video",
        "shape": [height, width, 3],
        "names": ["height", "width", "channels"],
        "info": {
            "video.height": height,
            "video.width": width,
            "video.codec": codec,
            "video.pix_fmt": pix_fmt,
            "video.is_depth_map": False,
            "video.fps": fps,
            "video.channels": 3,
            "has_audio": False,
        },
    }


def make_info(
    cameras: list[str],
    image_size: tuple[int, int],
    counts: dict[str, int],
    splits: dict[str, str],
    codec: str,
    pix_fmt: str,
    fps: int = CONTROL_HZ,
) -> dict[str, Any]:
    """``meta/info.json``; ``counts``: total_episodes, total_frames, total_tasks."""
    height, width = image_size
    features = {video_key(c): video_feature(height, width, fps, codec, pix_fmt) for c in cameras}
    features["observation.state"] = {
        "dtype": "float32",
        "shape": [len(STATE_NAMES)],
        "names": list(STATE_NAMES),
    }
    features["action"] = {
        "dtype": "float32",
        "shape": [len(ACTION_NAMES)],
        "names": list(ACTION_NAMES),
    }
    for name, dtype in INDEX_FEATURES.items():
        features[name] = {"dtype": dtype, "shape": [1], "names": None}
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": ROBOT_TYPE,
        **counts,
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": fps,
        "splits": splits,
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH,
        "features": features,
    }


def read_info(root: Path) -> dict[str, Any]:
    """``meta/info.json`` of a LeRobot folder; ValueError if it is not a v3 dataset."""
    path = root / INFO_PATH
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{root} is not a LeRobot dataset (no {INFO_PATH})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read {path}: {err}") from None
    version = str(info.get("codebase_version", ""))
    if not version.startswith("v3"):
        raise ValueError(
            f"{root} is LeRobot {version or 'of unknown version'}; this reader takes v3.x "
            "(convert it with LeRobot's convert_dataset_v21_to_v30)"
        )
    return info
