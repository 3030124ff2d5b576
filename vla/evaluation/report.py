"""The human-readable side of an evaluation: summary tables, a bar chart, and ``report.md``.

``report.md`` (next to ``eval_info.json``) has the run's settings, a bar chart of success per
family with 95% intervals (``success_by_family.png``), the tables, and per episode its
result, a link to its video and, for SayCan, every step's top candidates with their Say,
Can and combined scores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MAX_EPISODES_LISTED = 60


def _cell(rate: dict[str, Any] | None) -> str:
    if not rate:
        return "-"
    low, high = rate["ci95"]
    return f"{rate['pc_success']:.1f}% ({low:.1f}-{high:.1f})"


def summary_table(info: dict) -> str:
    """Markdown table: success per family and overall with 95% intervals; for SayCan runs,
    plan success (expert executes the plan) beside execution success (the policy does)."""
    agg = info["aggregated"]
    plan = agg.get("plan_success")
    head = "| family | episodes | success (95% CI) |"
    rule = "|---|---|---|"
    if plan:
        head, rule = head + " plan success (95% CI) |", rule + "---|"
    lines = [head, rule]
    rows = [*agg["per_family"].items(), ("**all**", agg)]
    for name, r in rows:
        line = f"| {name} | {r['n']} | {_cell(r)} |"
        if plan:
            line += f" {_cell(plan if name == '**all**' else plan['per_family'].get(name))} |"
        lines.append(line)
    return "\n".join(lines)


def chain_table(info: dict) -> str:
    """Markdown table of a chain evaluation: success of 1..L instructions in a row."""
    agg = info["aggregated"]
    lengths = range(1, len(agg["in_a_row"]) + 1)
    head = "| " + " | ".join(f"{k} in a row" for k in lengths) + " | average length |"
    rule = "|" + "---|" * (len(agg["in_a_row"]) + 1)
    cells = " | ".join(_cell(r) for r in agg["in_a_row"])
    return f"{head}\n{rule}\n| {cells} | {agg['average_length']:.2f} |"


def bar_chart(info: dict, path: Path) -> Path | None:
    """Success per family (and plan success for SayCan) with 95% intervals, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    agg = info["aggregated"]
    series = [("execution" if "plan_success" in agg else "success", agg)]
    if "plan_success" in agg:
        series.insert(0, ("plan", agg["plan_success"]))
    families = list(agg["per_family"]) + ["all"]
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(families) + 1), 3.2), dpi=100)
    for k, (label, data) in enumerate(series):
        rates = [data["per_family"].get(f, data) if f != "all" else data for f in families]
        values = [r["pc_success"] for r in rates]
        errors = [[v - r["ci95"][0] for v, r in zip(values, rates)]]
        errors.append([r["ci95"][1] - v for v, r in zip(values, rates)])
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(families))]
        ax.bar(xs, values, width, yerr=errors, capsize=3, label=label)
    ax.set_xticks(range(len(families)), families, rotation=20)
    ax.set_ylim(0, 105)
    ax.set_ylabel("success (%)")
    cfg = info["config"]
    ax.set_title(f"{Path(str(cfg['tasks'])).stem}: {cfg['policy']} / {cfg['planner']}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plan_table(plan: list[dict]) -> str:
    lines = ["| # | chosen | ok | top candidates: say x can = score |", "|---|---|---|---|"]
    for step in plan:
        top = "; ".join(
            f"{c['skill']}: {c['say']:.2f} x {c['can']:.2f} = {c['combined']:.3f}"
            for c in step["top"]
        )
        ok = {True: "yes", False: "no", None: "-"}[step["success"]]
        lines.append(f"| {step['index'] + 1} | {step['chosen']} | {ok} | {top} |")
    return "\n".join(lines)


def _episode_section(row: dict) -> str:
    verdict = "success" if row["success"] else "failure"
    extra = "" if row.get("plan_success") is None else f", plan success: {row['plan_success']}"
    video = f" · [video](videos/{row['video']})" if row.get("video") else ""
    text = f"### {row['index']}. {row['task']}\n\nseed {row['seed']}: **{verdict}**{extra}{video}\n"
    for k, sub in enumerate(row.get("instructions", []), start=1):
        mark = "done" if sub["success"] else "FAILED"
        text += f"\n{k}. {sub['instruction']} ({mark})\n"
        if sub.get("plan"):
            text += "\n" + plan_table(sub["plan"]) + "\n"
    if row.get("plan"):
        text += "\n" + plan_table(row["plan"]) + "\n"
    elif row.get("skills"):
        text += "\nskills: " + ", ".join(
            f"{s['skill']} ({'ok' if s['success'] else 'failed'})" for s in row["skills"]
        )
        text += "\n"
    return text


def write_report(info: dict, output_dir: str | Path) -> Path:
    """Write ``report.md`` (and its chart) for an ``evaluate`` or chain result; its path."""
    out = Path(output_dir)
    cfg, agg = info["config"], info["aggregated"]
    unit = "chains" if "in_a_row" in agg else "episodes"
    options = cfg.get("planner_options") or ""
    parts = [
        f"# Evaluation: {cfg['tasks']}\n",
        f"policy `{cfg['policy']}`, planner `{cfg['planner']}` {options}, {agg['n']} {unit} "
        f"from seed {cfg['seed']}, {agg['episodes_per_min']:.2f} {unit}/min with "
        f"{cfg['num_workers']} worker(s); git {agg.get('git_commit', '?')}\n",
    ]
    if "in_a_row" in agg:
        parts.append(chain_table(info) + "\n")
    else:
        chart = bar_chart(info, out / "success_by_family.png")
        parts += [f"![success per family]({chart.name})\n", summary_table(info) + "\n"]
    rows = info.get("per_episode", [])
    parts.append(f"## Episodes ({min(len(rows), MAX_EPISODES_LISTED)} of {len(rows)})\n")
    parts += [_episode_section(row) for row in rows[:MAX_EPISODES_LISTED]]
    path = out / "report.md"
    path.write_text("\n".join(parts))
    return path
