"""``vla-aggregate DIR``: one table from every ``eval_info.json`` under DIR (a ``-m`` sweep).

vla-eval -m tasks=structured planner=saycan planner.affordance=learned,oracle,constant \\
    hydra/launcher=joblib output_dir=outputs/sweep
vla-aggregate outputs/sweep          # prints the table, writes outputs/sweep/summary.{md,csv}

See :mod:`vla.evaluation.aggregate`. Bad input ends in one line with exit code 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vla.cli.errors import fail
from vla.evaluation.aggregate import write_summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", help="output_dir of a vla-eval run or -m sweep")
    args = parser.parse_args(argv)
    try:
        table = write_summary(args.sweep_dir)
    except ValueError as error:
        fail("vla-aggregate", error)
    print(table)
    root = Path(args.sweep_dir)
    print(f"wrote {root / 'summary.md'} and {root / 'summary.csv'}")


if __name__ == "__main__":
    main()
