"""``vla-record``: write successful scripted-expert episodes to a dataset (resumable).

    vla-record output_dir=data/demos episodes_per_suite=50 num_workers=2
    vla-record split=test suites=[single] episodes_per_suite=20 output_dir=data/demos_test
    vla-record suites=[structured] episodes_per_suite=600 learner=vla/assets/rt1 learner_prob=0.5

See :mod:`vla.data.recording` for what is recorded and how a rerun resumes.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from vla.cli.errors import run_app
from vla.data.recording import record


@hydra.main(config_path="../../configs", config_name="record", version_base="1.3")
def main(cfg: DictConfig) -> None:
    run_app("vla-record", record, cfg, on_interrupt="finished episodes are safe, rerun to resume")


if __name__ == "__main__":
    main()
