"""The main job end to end on a fixed seed (slow: it renders a video)."""

import json

import pytest
from omegaconf import OmegaConf

from vla.evaluation.run_task import run_task as run

BASE = {
    "instruction": None,
    "tasks": "structured",
    "task_index": 0,
    "seed": 1_000_000,
    "planner": "oracle",
    "policy": "expert",
    "image_size": 48,
    "render_size": 96,
    "max_skills": None,
}


@pytest.mark.slow
def test_vla_run_solves_a_task_and_writes_video_and_report(tmp_path):
    report = run(OmegaConf.create({**BASE, "output_dir": str(tmp_path)}))
    assert report["success"] and len(report["skills"]) >= 2
    assert (tmp_path / report["video"]).stat().st_size > 10_000
    assert (tmp_path / "key_frames.png").exists()
    assert json.loads((tmp_path / "report.json").read_text())["plan"][-1] == "done"
    assert "success" in (tmp_path / "report.md").read_text()


def test_unknown_instruction_is_a_clear_error(tmp_path):
    cfg = OmegaConf.create({**BASE, "instruction": "juggle", "output_dir": str(tmp_path)})
    with pytest.raises(ValueError, match="not a task of"):
        run(cfg)
