"""Success rates with 95% confidence intervals, overall and per task family."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

Z_95 = 1.959964  # two-sided 95% normal quantile


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion, as fractions in [0, 1].

    Unlike the normal approximation it stays inside [0, 1] and is sensible at 0 or n
    successes, which small evaluation runs hit often.
    """
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(successes: int, n: int) -> dict[str, Any]:
    """``{"n", "successes", "pc_success", "ci95": [low, high]}`` in percent."""
    low, high = wilson_interval(successes, n)
    pc = 100.0 * successes / n if n else float("nan")
    return {
        "n": n,
        "successes": successes,
        "pc_success": round(pc, 2),
        "ci95": [round(100 * low, 2), round(100 * high, 2)],
    }


def aggregate(episodes: Sequence[dict[str, Any]], key: str = "success") -> dict[str, Any]:
    """Overall and per-family rates of the boolean ``key`` over ``per_episode`` rows."""
    by_family: dict[str, list[bool]] = defaultdict(list)
    for row in episodes:
        by_family[row.get("family") or "-"].append(bool(row[key]))
    everything = [bool(row[key]) for row in episodes]
    return {
        **rate(sum(everything), len(everything)),
        "per_family": {f: rate(sum(v), len(v)) for f, v in sorted(by_family.items())},
    }
