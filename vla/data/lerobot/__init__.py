"""LeRobotDataset v3.0 in and out, written and read with pyarrow and PyAV (not ``lerobot``).

``export`` writes a ``vla-episodes`` dataset as a LeRobot v3.0 folder (``vla-export``);
``importer`` converts a LeRobot v3.0 folder into a ``vla-episodes`` dataset, which is how
``vla-train data=<lerobot folder>`` reads one. ``layout`` holds the file layout and
``info.json``, ``video`` the mp4 files, ``stats`` ``meta/stats.json``. docs/datasets.md
describes the mapping.
"""

from vla.data.lerobot.export import export_lerobot
from vla.data.lerobot.importer import LeRobotMapping, import_lerobot, is_lerobot_dataset

__all__ = ["LeRobotMapping", "export_lerobot", "import_lerobot", "is_lerobot_dataset"]
