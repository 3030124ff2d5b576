"""LeRobot's ``eval_info.json`` key names, written alongside ours so that tools made for
``lerobot-eval`` output read our runs too.

Per episode: ``episode_ix`` (our ``index``), ``sum_reward`` and ``max_reward``. Our sim's
reward is sparse: 1.0 for each instruction whose goal holds when it ends, else 0.0; so for
an episode ``sum_reward == max_reward == float(success)``, and for a chain ``sum_reward`` is
the number of instructions completed in a row and ``max_reward`` is 1.0 if any was.
Aggregated: ``avg_sum_reward``, ``avg_max_reward``, ``eval_s`` (wall seconds of the run)
and ``eval_ep_s`` (wall seconds per episode, as LeRobot defines it: not episodes per
second). Top level: ``video_paths``, the written videos' paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def add_episode_keys(row: dict[str, Any], sum_reward: float) -> dict[str, Any]:
    """``row`` with ``episode_ix``, ``sum_reward`` and ``max_reward`` added (in place)."""
    row["episode_ix"] = row["index"]
    row["sum_reward"] = float(sum_reward)
    row["max_reward"] = float(sum_reward > 0)
    return row


def aggregated_keys(rows: list[dict[str, Any]], seconds: float) -> dict[str, float]:
    """``avg_sum_reward``, ``avg_max_reward``, ``eval_s`` and ``eval_ep_s`` over ``rows``."""
    n = max(len(rows), 1)
    return {
        "avg_sum_reward": round(sum(r["sum_reward"] for r in rows) / n, 4),
        "avg_max_reward": round(sum(r["max_reward"] for r in rows) / n, 4),
        "eval_s": round(seconds, 2),
        "eval_ep_s": round(seconds / n, 4),
    }


def video_paths(rows: list[dict[str, Any]], video_dir: str | Path) -> list[str]:
    """Paths of the videos the rows name (``video`` is a file name in ``video_dir``)."""
    return [str(Path(video_dir) / r["video"]) for r in rows if r.get("video")]
