"""Where a result came from: package versions, the git commit, and the seeds' range."""

from __future__ import annotations

import logging
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.seeds import TEST_SEED_START, VAL_SEED_START, seed_range

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


def seed_ranges(seeds: list[int]) -> str:
    """The range(s) of ``seeds`` (:mod:`sim.seeds`), joined by "+"; warns (one log line) when
    any is a training seed, whose scene the policy may have been trained on."""
    ranges = sorted({seed_range(s) for s in seeds})
    if "train" in ranges:
        logging.getLogger(__name__).warning(
            "seeds %d-%d include training seeds (< %d), whose scenes may be in the training "
            "data: report on test seeds (seed=%d), choose settings on validation seeds (seed=%d)",
            min(seeds),
            max(seeds),
            TEST_SEED_START,
            TEST_SEED_START,
            VAL_SEED_START,
        )
    return "+".join(ranges)
