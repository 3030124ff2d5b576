"""vla-aggregate: numbers in summary.csv, readable strings in summary.md."""

import csv
import json

from vla.evaluation.aggregate import write_summary
from vla.evaluation.stats import aggregate, rate


def _write(path, config, aggregated):
    path.mkdir(parents=True)
    info = {"config": config, "aggregated": {**aggregated, "episodes_per_min": 12.5}}
    (path / "eval_info.json").write_text(json.dumps(info))


def test_csv_holds_numbers_and_markdown_holds_strings(tmp_path):
    rows = [{"success": s, "plan_success": True, "family": "f"} for s in (1, 1, 1, 0, 0)]
    saycan = {**aggregate(rows), "plan_success": aggregate(rows, "plan_success")}
    _write(tmp_path / "a", {"tasks": "single", "policy": "rt1", "planner": "saycan"}, saycan)
    chain = {"n": 4, "in_a_row": [rate(3, 4), rate(1, 4)], "average_length": 1.0}
    _write(tmp_path / "b", {"tasks": "structured", "policy": "rt1", "planner": "oracle"}, chain)

    table = write_summary(tmp_path)
    with open(tmp_path / "summary.csv", newline="") as f:
        a, b = list(csv.DictReader(f))
    assert float(a["success_rate"]) == 0.6
    low, high = (float(a[k]) for k in ("success_ci_low", "success_ci_high"))
    assert 0.2 < low < 0.6 < high < 0.95  # Wilson 95% bounds of 3/5, as fractions
    assert float(a["plan_success_rate"]) == 1.0 and a["average_length"] == ""
    assert float(b["success_rate"]) == 0.25 and float(b["average_length"]) == 1.0
    assert b["plan_success_rate"] == "" and float(b["eps_per_min"]) == 12.5
    assert "%" not in (tmp_path / "summary.csv").read_text()
    assert f"| 60.0% ({100 * low:.0f}-{100 * high:.0f}) | 100.0% (" in table
    assert "avg length 1.00/2" in table and "| - |" in table
