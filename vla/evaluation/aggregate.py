"""One table from every ``eval_info.json`` under a folder, e.g. a ``vla-eval -m`` sweep
(``vla-aggregate``): ``summary.md`` and ``summary.csv`` in that folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

COLUMNS = ("run", "tasks", "policy", "planner", "n", "success", "plan_success", "eps_per_min")


def _pct(rate: dict | None) -> str:
    if not rate:
        return "-"
    low, high = rate["ci95"]
    return f"{rate['pc_success']:.1f}% ({low:.0f}-{high:.0f})"


def summarize(path: Path, root: Path) -> dict[str, Any]:
    """One table row from an ``eval_info.json``."""
    info = json.loads(path.read_text())
    cfg, agg = info["config"], info["aggregated"]
    options = cfg.get("planner_options") or {}
    planner = cfg["planner"] + (f" ({options['affordance']})" if "affordance" in options else "")
    if "in_a_row" in agg:
        success = f"avg length {agg['average_length']:.2f}/{len(agg['in_a_row'])}"
    else:
        success = _pct(agg)
    return {
        "run": str(path.parent.relative_to(root)) or ".",
        "tasks": Path(str(cfg["tasks"])).stem,
        "policy": cfg["policy"],
        "planner": planner,
        "n": agg["n"],
        "success": success,
        "plan_success": _pct(agg.get("plan_success")),
        "eps_per_min": f"{agg['episodes_per_min']:.2f}",
    }


def aggregate_dir(root: str | Path) -> list[dict[str, Any]]:
    """Rows for every ``eval_info.json`` under ``root``, sorted by run folder."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder; pass the output_dir of a vla-eval sweep")
    files = sorted(root.rglob("eval_info.json"))
    if not files:
        raise ValueError(f"no eval_info.json under {root}; run vla-eval -m ... output_dir={root}")
    return [summarize(f, root) for f in files]


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(r[c]) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def write_summary(root: str | Path) -> str:
    """Write ``summary.md`` and ``summary.csv`` of the runs under ``root``; returns the
    markdown table.

    Raises:
        ValueError: ``root`` is not a folder or holds no ``eval_info.json``.
    """
    rows = aggregate_dir(root)
    table = markdown(rows)
    root = Path(root)
    (root / "summary.md").write_text(table + "\n")
    with open(root / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return table
