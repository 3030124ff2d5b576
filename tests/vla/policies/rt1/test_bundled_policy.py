"""The bundled RT-1 checkpoint: loads by name with no flags and solves a fixed-seed skill."""

import pytest

import vla
from sim.tasks import dump_tasks, load_tasks
from vla.evaluation import evaluate
from vla.policies import RT1Policy
from vla.policies.base import bundled_checkpoint

# episode 3 of `vla-eval tasks=single` (RT-1 model card figures, network alone): task 3 of the
# suite at its seed
SOLVED_TASK, SOLVED_SEED = 3, 1_000_003


def test_bundled_checkpoint_ships_small_and_loads_by_name():
    folder = bundled_checkpoint("rt1")
    assert folder is not None, "vla/assets/rt1 is missing"
    assert sum(f.stat().st_size for f in folder.iterdir()) < 20e6
    assert not (folder / "training_state.pt").exists()  # weights only, no optimizer state
    policy = vla.load_policy("rt1")
    assert isinstance(policy, RT1Policy) and "vla-train" in policy.model_card


@pytest.mark.slow
def test_bundled_policy_solves_a_fixed_seed_skill(tmp_path):
    task = load_tasks("single")[SOLVED_TASK]
    (tmp_path / "task.yaml").write_text(dump_tasks([task]))
    info = evaluate(
        str(tmp_path / "task.yaml"),
        "rt1",
        n_episodes=1,
        seed=SOLVED_SEED,
        output_dir=tmp_path,
        n_videos=0,
    )
    row = info["per_episode"][0]
    assert row["success"] and row["steps"] < 150, row
