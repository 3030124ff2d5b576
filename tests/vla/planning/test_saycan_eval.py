"""SayCan in the simulator: the oracle affordance, planner=saycan in vla-eval, chains, reports,
sweep aggregation and the main job with a free-form instruction."""

import json
import random

import pytest

from sim.env import VLAEnv
from sim.tasks import all_hold, apply_skill, load_tasks, oracle_plan, symbolic_world
from sim.tasks.chain import chain_scene_ok, next_chain_task
from vla.cli.aggregate import main as aggregate_main
from vla.evaluation import evaluate
from vla.evaluation.aggregate import aggregate_dir
from vla.evaluation.chain import chain_aggregate, evaluate_chains
from vla.planning import OracleAffordance, SayCanOptions


@pytest.fixture(scope="module")
def place_env():
    """A tabletop env reset to a place task: the block starts in the gripper."""
    task = next(t for t in load_tasks("single") if t.instruction.startswith("place"))
    env = VLAEnv("tabletop", tasks=[task], image_size=32)
    env.reset(seed=1_000_000)
    yield env, task
    env.close()


def test_oracle_affordance_follows_the_true_state(place_env):
    env, task = place_env
    held = task.initial[0].args[0]
    can = OracleAffordance(env)
    assert can(None, task.instruction) == 1.0  # placing the held block is possible
    assert can(None, f"pick up the {held}") == 0.0  # the hand is full
    with pytest.raises(ValueError, match="needs a simulator env"):
        OracleAffordance(None)


def test_unknown_planner_option_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown planner option"):
        SayCanOptions.from_mapping({"name": "saycan", "temperature": 2})
    with pytest.raises(ValueError, match="unknown planner option"):
        evaluate("single", "expert", planner="saycan", planner_options={"nope": 1})


@pytest.fixture(scope="module")
def saycan_eval(tmp_path_factory):
    out = tmp_path_factory.mktemp("saycan")
    options = {"affordance": "oracle", "top_k": 4}
    info = evaluate("single", "expert", "saycan", 3, output_dir=out, n_videos=1,
                    planner_options=options)  # fmt: skip
    return info, out


def test_saycan_steps_record_say_can_and_their_product(saycan_eval):
    info, _ = saycan_eval
    for row in info["per_episode"]:
        assert row["plan"], "every SayCan episode records its steps"
        for step in row["plan"]:
            top = step["top"]
            assert 1 <= len(top) <= 4 and step["chosen"] == top[0]["skill"]
            assert all(c["combined"] == pytest.approx(c["say"] * c["can"]) for c in top)
            scores = [c["combined"] for c in top]
            assert scores == sorted(scores, reverse=True)
            assert all(c["can"] in (0.0, 1.0) for c in top if c["skill"] != "done")
        executed = [s for s in row["plan"] if s["chosen"] != "done"]
        assert [s["chosen"] for s in executed] == [s["skill"] for s in row["skills"]]
        assert all(s["can"] == 1.0 for s in (step["top"][0] for step in executed))


def test_saycan_with_the_expert_reports_plan_success_equal_to_success(saycan_eval):
    info, out = saycan_eval
    assert all(r["plan_success"] == r["success"] for r in info["per_episode"])
    agg = info["aggregated"]
    assert agg["plan_success"]["n"] == 3 and agg["plan_success"]["pc_success"] == agg["pc_success"]
    report = (out / "report.md").read_text()
    assert "plan success" in report and "say x can" in report
    assert (out / "success_by_family.png").stat().st_size > 1000
    assert "episode_0000" in report  # the video is linked


def test_chain_tasks_are_unmet_and_plannable_and_chain_symbolically():
    scene = next(t for t in load_tasks("structured") if chain_scene_ok(t))
    state, rng = symbolic_world(scene), random.Random(3)
    for _ in range(5):
        task = next_chain_task(scene, state, rng)
        assert task.family == "chain" and not all_hold(task.goal, state)
        for skill in oracle_plan(task, state)[:-1]:
            state = apply_skill(state, skill)
        assert all_hold(task.goal, state)


def test_chain_aggregate_counts_instructions_in_a_row():
    rows = [{"completed": c} for c in (0, 1, 3, 5)]
    agg = chain_aggregate(rows, 5)
    assert [r["successes"] for r in agg["in_a_row"]] == [3, 2, 2, 1, 1]
    assert agg["average_length"] == pytest.approx(9 / 4)


def test_expert_completes_a_chain_with_the_oracle_planner(tmp_path):
    info = evaluate_chains("structured", 1, 2, "expert", "oracle", output_dir=tmp_path, n_videos=0)
    (chain,) = info["per_episode"]
    assert chain["completed"] == 2 and len(chain["instructions"]) == 2
    assert info["aggregated"]["average_length"] == 2.0
    assert "2 in a row" in (tmp_path / "report.md").read_text()
    with pytest.raises(ValueError, match="mode=chain needs a planner"):
        evaluate_chains("structured", 1, 2, "expert", "none", output_dir=tmp_path)


def test_aggregate_makes_one_table_of_a_sweep(tmp_path, capsys):
    for planner in ("none", "oracle"):
        evaluate("single", "expert", planner, 2, output_dir=tmp_path / planner, n_videos=0)
    rows = aggregate_dir(tmp_path)
    got = [(r["run"], r["planner"], r["n"]) for r in rows]
    assert got == [("none", "none", 2), ("oracle", "oracle", 2)]
    aggregate_main([str(tmp_path)])
    assert "| oracle |" in capsys.readouterr().out
    assert len((tmp_path / "summary.csv").read_text().splitlines()) == 3
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        aggregate_main([str(tmp_path / "empty")])
    assert exit_info.value.code == 2 and "no eval_info.json" in capsys.readouterr().err


@pytest.mark.slow
def run_free_form(instruction: str, out) -> dict:
    """vla-run of ``instruction`` in the first structured task's scene, small and short."""
    from vla.evaluation.config import RunConfig
    from vla.evaluation.run_task import run_task as run

    cfg = RunConfig(
        planner=SayCanOptions(affordance="oracle"),
        instruction=instruction, tasks="structured",
        task_index=0, seed=1_000_000, policy="expert", image_size=32,
        render_size=64, max_skills=3, output_dir=str(out),
    )  # fmt: skip
    return run(cfg)


def test_vla_run_takes_a_free_form_instruction_with_saycan(tmp_path):
    report = run_free_form("Put the red block on the green block!", tmp_path)
    assert report["success"] is None and report["goal"] == []
    assert 1 <= len(report["saycan_plan"]) <= 4 and len(report["skills"]) <= 3
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["saycan_plan"][0]["top"][0]["skill"] == saved["saycan_plan"][0]["chosen"]
    assert "goal unknown" in (tmp_path / "report.md").read_text()


def test_vla_run_says_how_the_say_reads_words_it_never_saw(tmp_path, capsys):
    run_free_form("relocate the red block to the top left corner", tmp_path)
    assert "the Say reads: move the red block to the top left corner" in capsys.readouterr().out
