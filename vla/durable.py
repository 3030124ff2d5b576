"""Writes that survive a crash: fsync'd files and folders, atomic replacement, appends.

Shared by the episode store and the checkpoints, the two things a crash must never corrupt.
"""

from __future__ import annotations

import os
from pathlib import Path

TMP_TAG = ".tmp-"  # marks a temporary file; readers ignore it, writers clean it up


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder's entries (so a rename in it is durable), to disk."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; its renames are durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(file: Path, data: bytes) -> None:
    """Replace ``file`` with ``data``: a crash leaves the old or the new file, never a mix."""
    tmp = file.with_name(f"{file.name}{TMP_TAG}{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, file)
    except BaseException:
        tmp.unlink(missing_ok=True)  # Ctrl-C mid-write: tidy now rather than on the next open
        raise
    fsync_path(file.parent)


def append_line(file: Path, line: bytes) -> None:
    """Append ``line`` with one write and fsync: a crash leaves a prefix, never a mix."""
    existed = file.exists()
    with open(file, "ab") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    if not existed:
        fsync_path(file.parent)
