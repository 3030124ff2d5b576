"""Where a result came from: package versions and the git commit of this checkout."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("vla-stack", "torch", "transformers", "pybullet", "gymnasium", "numpy", "hydra-core")


def package_versions() -> dict[str, str | None]:
    """Installed version of each package in ``PACKAGES`` (None if missing)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit() -> str | None:
    """HEAD of the git checkout this package runs from (with ``-dirty``), or None."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (commit + ("-dirty" if dirty else "")) if commit else None


def provenance() -> dict[str, Any]:
    """``{"versions": {...}, "git_commit": ...}`` for result files."""
    return {"versions": package_versions(), "git_commit": git_commit()}
