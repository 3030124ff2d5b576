"""``meta/tasks.parquet``: LeRobot writes it with pandas, a frame indexed by ``task`` (the
text) with one column ``task_index``; readers call ``pandas.read_parquet`` and look tasks up
by the index. We write the same file with pyarrow alone: the ``task`` column plus the
``pandas`` schema metadata that makes pandas restore it as the index.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vla.data.lerobot.layout import TASKS_PATH


def _pandas_metadata() -> bytes:
    columns = [
        {"name": "task_index", "field_name": "task_index", "pandas_type": "int64",
         "numpy_type": "int64", "metadata": None},
        {"name": "task", "field_name": "task", "pandas_type": "unicode",
         "numpy_type": "object", "metadata": None},
    ]  # fmt: skip
    return json.dumps(
        {
            "index_columns": ["task"],
            "column_indexes": [
                {
                    "name": None,
                    "field_name": None,
                    "pandas_type": "unicode",
                    "numpy_type": "object",
                    "metadata": {"encoding": "UTF-8"},
                }
            ],  # fmt: skip
            "columns": columns,
            "creator": {"library": "pyarrow", "version": pa.__version__},
            "pandas_version": "2.2.3",
        }
    ).encode()


def write_tasks(root: Path, tasks: list[str]) -> None:
    """``tasks[i]`` has ``task_index`` i."""
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": tasks})
    table = table.replace_schema_metadata({b"pandas": _pandas_metadata()})
    path = root / TASKS_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def read_tasks(root: Path) -> dict[int, str]:
    """task_index -> task text, from a file pandas or we wrote."""
    table = pq.read_table(root / TASKS_PATH)
    names = table.column_names
    text = next((n for n in ("task", "__index_level_0__") if n in names), None)
    if text is None or "task_index" not in names:
        raise ValueError(f"{root / TASKS_PATH} has no task text and task_index columns")
    return dict(zip(table["task_index"].to_pylist(), table[text].to_pylist(), strict=True))
