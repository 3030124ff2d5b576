"""The writer lock of a folder (a dataset, a training run): one writer at a time, stale locks
taken over.

The lock file holds {"pid": int, "host": str}. A dead pid on this host, or an unreadable
file (its writer died creating it), is stale. Another host is assumed alive: the lock is
advisory and host-local.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path


class DatasetLockedError(ValueError):
    """Another live process is writing the folder (a ValueError: the command-line apps
    report it in one line, like other bad input)."""


def acquire_lock(lock: Path) -> None:
    """Create ``lock`` exclusively, taking over a stale one; DatasetLockedError if held."""
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = lock_owner(lock)
            if owner is not None and owner_alive(owner):
                raise DatasetLockedError(
                    f"{lock.parent} is being written by pid {owner['pid']} on {owner['host']}; "
                    f"stop that process first (delete {lock} only if it is surely gone)"
                ) from None
            lock.unlink(missing_ok=True)  # stale: its writer died without releasing it
            continue
        with os.fdopen(fd, "w") as handle:
            json.dump({"pid": os.getpid(), "host": socket.gethostname()}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        return
    raise DatasetLockedError(f"another process took {lock} while this one was taking it over")


def lock_owner(lock: Path) -> dict | None:
    """The lock's {"pid", "host"}, or None if it is unreadable (its writer died creating it)."""
    try:
        owner = json.loads(lock.read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(owner, dict) and isinstance(owner.get("pid"), int)
    return owner if ok else None


def owner_alive(owner: dict) -> bool:
    if owner.get("host") != socket.gethostname() or os.name == "nt":
        return True  # cannot check (and os.kill(pid, 0) would kill on Windows): assume alive
    if owner["pid"] <= 0:
        return False  # os.kill(0, ...) would address our own process group
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def release_lock(lock: Path, pid: int) -> None:
    """Delete ``lock`` if this process (``pid``; not a forked child) holds it."""
    owner = lock_owner(lock)
    if os.getpid() == pid and owner is not None and owner["pid"] == pid:
        lock.unlink(missing_ok=True)
