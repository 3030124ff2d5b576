"""One table from every ``eval_info.json`` under a folder, e.g. a ``vla-eval -m`` sweep
(``vla-aggregate``): ``summary.md`` and ``summary.csv`` in that folder.

``summary.csv`` holds numbers a spreadsheet or pandas can use: success rates and their 95%
Wilson bounds as fractions in [0, 1] (``success_rate``, ``success_ci_low``,
``success_ci_high``; ``plan_success_*`` likewise for SayCan runs, empty otherwise), and for
chain runs ``average_length`` with the rate of completing the whole chain. ``summary.md``
shows the same rows as readable strings, e.g. ``100.0% (34-100)``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

CSV_COLUMNS = (
    "run",
    "tasks",
    "policy",
    "planner",
    "n",
    "success_rate",
    "success_ci_low",
    "success_ci_high",
    "plan_success_rate",
    "plan_success_ci_low",
    "plan_success_ci_high",
    "average_length",
    "chain_length",
    "eps_per_min",
)
MD_COLUMNS = ("run", "tasks", "policy", "planner", "n", "success", "plan_success", "eps_per_min")


def _numbers(prefix: str, rate: dict | None) -> dict[str, float | None]:
    """``{prefix}_rate``, ``_ci_low``, ``_ci_high`` as fractions (None without a rate)."""
    keys = (f"{prefix}_rate", f"{prefix}_ci_low", f"{prefix}_ci_high")
    if not rate:
        return dict.fromkeys(keys)
    low, high = rate["ci95"]
    values = (rate["pc_success"], low, high)
    return {k: round(v / 100, 4) for k, v in zip(keys, values, strict=True)}


def summarize(path: Path, root: Path) -> dict[str, Any]:
    """One row (numbers, see the module docstring) from an ``eval_info.json``."""
    info = json.loads(path.read_text())
    cfg, agg = info["config"], info["aggregated"]
    options = cfg.get("planner_options") or {}
    planner = cfg["planner"] + (f" ({options['affordance']})" if "affordance" in options else "")
    chain = agg.get("in_a_row")
    return {
        "run": str(path.parent.relative_to(root)) or ".",
        "tasks": Path(str(cfg["tasks"])).stem,
        "policy": cfg["policy"],
        "planner": planner,
        "n": agg["n"],
        **_numbers("success", chain[-1] if chain else agg),
        **_numbers("plan_success", agg.get("plan_success")),
        "average_length": agg["average_length"] if chain else None,
        "chain_length": len(chain) if chain else None,
        "eps_per_min": agg["episodes_per_min"],
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


def _pct(row: dict[str, Any], prefix: str) -> str:
    rate = row[f"{prefix}_rate"]
    if rate is None:
        return "-"
    low, high = row[f"{prefix}_ci_low"], row[f"{prefix}_ci_high"]
    return f"{100 * rate:.1f}% ({100 * low:.0f}-{100 * high:.0f})"


def readable(row: dict[str, Any]) -> dict[str, str]:
    """The Markdown cells of a row: rates as ``62.5% (31-86)``, chains as average length."""
    if row["average_length"] is not None:
        success = f"avg length {row['average_length']:.2f}/{row['chain_length']}"
    else:
        success = _pct(row, "success")
    return {
        **{c: str(row[c]) for c in ("run", "tasks", "policy", "planner", "n")},
        "success": success,
        "plan_success": _pct(row, "plan_success"),
        "eps_per_min": f"{row['eps_per_min']:.2f}",
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(MD_COLUMNS) + " |", "|" + "---|" * len(MD_COLUMNS)]
    for row in map(readable, rows):
        lines.append("| " + " | ".join(row[c] for c in MD_COLUMNS) + " |")
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
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)  # None is written as an empty cell
    return table
