"""vla-eval: confidence intervals, the per-episode loop, parallel workers, eval_info.json."""

import json

import pytest
import torch

from vla.evaluation import evaluate

# not `from vla.evaluation import aggregate`: the submodule vla.evaluation.aggregate shadows
# that name once anything imports it
from vla.evaluation.stats import aggregate, wilson_interval
from vla.policies import RT1Policy
from vla.policies.rt1.model import RT1Config


def test_wilson_interval_known_values():
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    low, high = wilson_interval(90, 100)
    assert low < 0.9 < high and high - low < 0.13


def test_aggregate_splits_by_family():
    rows = [{"family": "a", "success": s} for s in (True, True, False, True)]
    rows += [{"family": "b", "success": False}]
    agg = aggregate(rows)
    assert agg["n"] == 5 and agg["successes"] == 3 and agg["pc_success"] == 60.0
    assert agg["per_family"]["a"]["pc_success"] == 75.0
    assert agg["per_family"]["b"]["ci95"][0] == 0.0


def test_expert_solves_single_tasks_and_writes_eval_info(tmp_path):
    info = evaluate("single", "expert", n_episodes=4, output_dir=tmp_path, n_videos=1)
    saved = json.loads((tmp_path / "eval_info.json").read_text())
    assert saved["aggregated"]["pc_success"] == info["aggregated"]["pc_success"] == 100.0
    assert saved["aggregated"]["per_family"]["single"]["n"] == 4
    assert {"versions", "git_commit", "episodes_per_s"} <= set(saved["aggregated"])
    rows = saved["per_episode"]
    assert [r["seed"] for r in rows] == [1_000_000 + i for i in range(4)]
    assert saved["config"]["seed_range"] == "test"
    assert all(r["steps"] > 0 and r["skills"][0]["success"] for r in rows)
    assert (tmp_path / "videos" / rows[0]["video"]).stat().st_size > 0
    assert rows[1]["video"] is None
    # LeRobot's key names alongside ours
    assert [r["episode_ix"] for r in rows] == [0, 1, 2, 3]
    assert all(r["sum_reward"] == r["max_reward"] == 1.0 for r in rows)
    agg = saved["aggregated"]
    assert agg["avg_sum_reward"] == agg["avg_max_reward"] == 1.0
    assert agg["eval_ep_s"] == pytest.approx(agg["eval_s"] / 4, abs=0.01)  # eval_s is rounded
    assert saved["video_paths"] == [str(tmp_path / "videos" / rows[0]["video"])]


def test_training_seeds_are_flagged_before_the_run(tmp_path, caplog):
    info = evaluate("single", "expert", n_episodes=1, seed=999_999, output_dir=tmp_path / "a")
    assert info["config"]["seed_range"] == "train"
    assert "include training seeds" in caplog.text and "seed=2000000" in caplog.text
    caplog.clear()
    info = evaluate("single", "expert", n_episodes=2, seed=1_999_999, output_dir=tmp_path / "b")
    assert info["config"]["seed_range"] == "test+validation" and not caplog.text


@pytest.mark.slow
def test_workers_give_the_same_episodes_as_one_process(tmp_path):
    args = dict(planner="oracle", n_episodes=3, n_videos=0)
    inline = evaluate("structured", "expert", output_dir=tmp_path / "a", **args)
    pooled = evaluate("structured", "expert", output_dir=tmp_path / "b", num_workers=2, **args)
    drop = ("seconds",)
    strip = [{k: v for k, v in r.items() if k not in drop} for r in inline["per_episode"]]
    assert strip == [{k: v for k, v in r.items() if k not in drop} for r in pooled["per_episode"]]
    assert all(len(r["skills"]) >= 2 for r in strip)  # the oracle ran several skills


def test_a_checkpoint_dir_runs_through_the_same_loop(tmp_path):
    torch.manual_seed(0)
    tiny = RT1Config(
        image_size=32, cnn_channels=(8, 16), tokens_per_image=4, d_model=32, n_layers=1, n_heads=2
    )
    RT1Policy(tiny).save_pretrained(tmp_path / "ckpt")
    info = evaluate(
        "single",
        str(tmp_path / "ckpt"),
        n_episodes=1,
        output_dir=tmp_path / "e",
        n_videos=0,
        image_size=32,
    )
    row = info["per_episode"][0]
    assert row["steps"] >= 1 and row["skills"][0]["skill"] == row["task"]


def test_bad_arguments_are_one_line_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown planner 'magic'"):
        evaluate("single", "expert", planner="magic", output_dir=tmp_path)
    with pytest.raises(ValueError, match="n_episodes must be >= 1"):
        evaluate("single", "expert", n_episodes=0, output_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown policy"):
        evaluate("single", "nope", n_episodes=1, output_dir=tmp_path)


def test_tasks_all_interleaves_every_builtin_suite():
    from sim.tasks import BUILTIN_SUITES
    from sim.tasks.generate import suite_size
    from vla.evaluation.runner import resolve_tasks

    tasks = resolve_tasks("all")
    assert len(tasks) == sum(suite_size(name) for name in BUILTIN_SUITES)
    assert [t.family for t in tasks[: len(BUILTIN_SUITES)]] == list(BUILTIN_SUITES)
