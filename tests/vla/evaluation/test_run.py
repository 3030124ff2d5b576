"""The main job end to end on a fixed seed (slow: it renders a video)."""

import json

import pytest

from vla.evaluation.config import RunConfig
from vla.evaluation.run_task import run_task as run
from vla.planning.config import PlannerConfig

BASE = {
    "instruction": None,
    "tasks": "structured",
    "task_index": 0,
    "seed": 1_000_000,
    "planner": PlannerConfig("oracle"),
    "policy": "expert",
    "image_size": 48,
    "render_size": 96,
    "max_skills": None,
}


@pytest.mark.slow
def test_vla_run_solves_a_task_and_writes_video_and_report(tmp_path):
    report = run(RunConfig(**BASE, output_dir=str(tmp_path)))
    assert report["success"] and len(report["skills"]) >= 2
    assert (tmp_path / report["video"]).stat().st_size > 10_000
    assert (tmp_path / "key_frames.png").exists()
    assert json.loads((tmp_path / "report.json").read_text())["plan"][-1] == "done"
    assert "success" in (tmp_path / "report.md").read_text()


def test_unknown_instruction_is_a_clear_error(tmp_path):
    cfg = RunConfig(**{**BASE, "instruction": "juggle", "output_dir": str(tmp_path)})
    with pytest.raises(ValueError, match="cannot tell the goal of 'juggle'.*planner=saycan"):
        run(cfg)


@pytest.mark.slow
def test_a_free_form_instruction_runs_in_a_scene_with_what_it_names(tmp_path):
    cfg = {**BASE, "instruction": "stack the blue block on the red block", "task_index": None}
    report = run(RunConfig(**cfg, output_dir=str(tmp_path)))
    assert report["goal"] == ["on(blue block, red block)"]
    assert report["success"] is True
    assert report["plan"] == [
        "pick up the blue block",
        "place the blue block on the red block",
        "done",
    ]


def test_an_episode_that_is_done_at_once_still_writes_its_report(tmp_path):
    """Embodiment task 0 starts with its goal met: no skill runs, and the report, video and
    key frames (the starting frame) are still written."""
    cfg = {**BASE, "tasks": "embodiment", "render_size": 48}
    report = run(RunConfig(**cfg, output_dir=str(tmp_path)))
    assert report["skills"] == [] and report["plan"] == ["done"] and report["success"]
    assert (tmp_path / "key_frames.png").exists() and (tmp_path / report["video"]).exists()
