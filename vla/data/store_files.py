"""The files of an ``vla-episodes`` dataset (format in :mod:`vla.data.episode_store`):
reading and settling the header, reading the index, crash recovery, atomic episode writes."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from vla.data.episode_schema import FORMAT, VERSION
from vla.durable import TMP_TAG, write_atomically

HEADER_FILE = "dataset.json"
INDEX_FILE = "index.jsonl"
LOCK_FILE = "writer.lock"
EPISODE_DIR = "episodes"
_EPISODE_FILE = re.compile(r"ep_\d+\.npz\Z")
_HEADER_SHAPE_FIELDS = ("cameras", "image_size", "state_dim", "action_dim")


def read_header(path: Path) -> dict:
    file = path / HEADER_FILE
    if not file.exists():
        raise FileNotFoundError(f"no dataset at {path} (missing {HEADER_FILE})")
    header = json.loads(file.read_text(encoding="utf-8"))
    if header.get("format") != FORMAT:
        raise ValueError(f"{file} is not a {FORMAT} dataset (format {header.get('format')!r})")
    if header.get("version", 0) > VERSION:
        raise ValueError(f"{file} is version {header['version']}; this code reads {VERSION}")
    return header


def settle_header(path: Path, wanted: dict | None, mode: str) -> dict:
    """The existing header (checked against ``wanted``) or ``wanted`` written atomically."""
    if not (path / HEADER_FILE).exists():
        if mode == "open" or wanted is None:
            raise FileNotFoundError(f"no dataset at {path} (missing {HEADER_FILE})")
        write_atomically(path / HEADER_FILE, (json.dumps(wanted, indent=2) + "\n").encode())
        return wanted
    if mode == "create":
        raise FileExistsError(f"a dataset already exists at {path}")
    header = read_header(path)
    if wanted is not None:
        diffs = [
            f"{name} {header.get(name)} (asked for {wanted[name]})"
            for name in _HEADER_SHAPE_FIELDS
            if header.get(name) != wanted[name]
        ]
        if diffs:
            raise ValueError(
                f"the dataset at {path} has {'; '.join(diffs)}: use another directory "
                f"or matching settings"
            )
    return header


def read_index(index: Path) -> list[dict]:
    """Committed records: every complete line; a torn tail (no final newline) is ignored."""
    if not index.exists():
        return []
    data = index.read_bytes()
    committed = data[: data.rfind(b"\n") + 1]
    records = []
    for number, line in enumerate(committed.split(b"\n")[:-1], start=1):
        try:
            records.append(json.loads(line))
        except ValueError as error:
            raise ValueError(f"{index} line {number} is damaged: {error}") from error
    return records


def recover(path: Path) -> None:
    """Undo what a crashed writer left half-done (called with the lock held)."""
    index = path / INDEX_FILE
    if index.exists():
        with open(index, "r+b") as handle:
            data = handle.read()
            end = data.rfind(b"\n") + 1
            if end != len(data):  # a torn last line, or the next append would be glued to it
                handle.truncate(end)
                handle.flush()
                os.fsync(handle.fileno())
    episode_dir = path / EPISODE_DIR
    episode_dir.mkdir(exist_ok=True)
    named = {r["file"] for r in read_index(index) if r["kind"] == "episode"}
    for folder in (path, episode_dir):
        for file in folder.iterdir():
            orphan = (
                folder == episode_dir
                and _EPISODE_FILE.match(file.name)
                and f"{EPISODE_DIR}/{file.name}" not in named
            )
            if file.is_file() and (TMP_TAG in file.name or orphan):
                file.unlink()


def write_npz_atomically(file: Path, arrays: Mapping[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomically(file, buffer.getvalue())  # durable before the index names the file
