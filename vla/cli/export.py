"""``vla-export``: write a recorded dataset as LeRobotDataset v3.0.

vla-export data=data/demos output_dir=data/demos_lerobot
vla-export data=data/demos output_dir=data/demos_lerobot pix_fmt=yuv444p crf=0

Options: :class:`vla.data.lerobot.export.ExportConfig`; the layout and the field mapping are
in :mod:`vla.data.lerobot.export` and docs/datasets.md. Bad input ends in one line with exit
code 2; an interrupted export leaves nothing under ``output_dir``.
"""

from vla.cli.app import hydra_app
from vla.data.lerobot.export import ExportConfig, export

main = hydra_app("vla-export", "export", ExportConfig, export, "nothing was written")

if __name__ == "__main__":
    main()
