"""Affordance data and training: a tiny expert collection, its resume, and a few train steps."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from vla.options import build
from vla.planning.affordance.collect import CollectConfig, check_seeds, pick_task
from vla.planning.affordance.collect import collect_dataset as collect
from vla.planning.affordance.dataset import done_episodes, load_dataset, shard_paths
from vla.planning.affordance.learned import LearnedAffordance
from vla.planning.affordance.metrics import auc, oracle_top1
from vla.planning.affordance.model import AffordanceNet
from vla.planning.affordance.train import AffordanceTrainConfig, random_shift, train_affordance

CONFIG = {
    "episodes": 1,
    "seed_start": 0,
    "suites": ["single", "long_horizon"],
    "policy": "expert",
    "max_steps": 40,
    "oracle_skills": 1,
    "random_skills": 2,
    "image_size": 64,
    "shard_episodes": 10,
    "num_workers": 0,
    "threads": 1,
}


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("affordance")
    collect(build(CollectConfig, {**CONFIG, "output_dir": str(out)}))
    first = load_dataset(out)
    collect(build(CollectConfig, {**CONFIG, "output_dir": str(out), "episodes": 2}))
    return out, first


def test_collection_writes_a_readable_dataset(dataset_dir):
    out, first = dataset_dir
    assert len(first["label"]) == 3 and first["front"].shape == (3, 64, 64, 3)
    assert first["front"].dtype == np.uint8 and first["oracle"].sum() == 1
    assert first["label"][first["oracle"]].all()  # the expert succeeds at the oracle's skill
    assert first["feasible"][first["oracle"]].all()
    assert "done" not in set(first["skill"].tolist())


def test_rerun_appends_and_keeps_what_was_written(dataset_dir):
    out, first = dataset_dir
    both = load_dataset(out)
    assert len(shard_paths(out)) == 2 and done_episodes(out) == {0, 1}
    assert len(both["label"]) == 6
    for key in ("front", "skill", "label"):
        np.testing.assert_array_equal(both[key][:3], first[key])  # first shard intact
    collect(build(CollectConfig, {**CONFIG, "output_dir": str(out), "episodes": 2}))
    assert len(shard_paths(out)) == 2  # nothing left to do: no new shard


def test_test_seeds_are_refused(tmp_path):
    with pytest.raises(ValueError, match="training range"):
        check_seeds([999_999, 1_000_000])
    with pytest.raises(ValueError, match="training range"):
        collect(
            build(
                CollectConfig,
                {**CONFIG, "output_dir": str(tmp_path), "seed_start": 999_999, "episodes": 2},
            )
        )


def test_task_choice_is_seeded():
    assert pick_task(5, ("single", "mobile")) == pick_task(5, ("single", "mobile"))


def test_a_few_training_steps_lower_the_loss(dataset_dir, one_thread):
    out, _ = dataset_dir
    data = load_dataset(out)
    torch.manual_seed(0)
    model = AffordanceNet()
    front, wrist = torch.from_numpy(data["front"]), torch.from_numpy(data["wrist"])
    skill = torch.randn(len(data["label"]), 384)
    label = torch.from_numpy(data["label"].astype(np.float32))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.eval()  # no dropout: compare like with like
    losses = []
    for _ in range(15):
        loss = F.binary_cross_entropy_with_logits(model(front, wrist, skill), label)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_train_command_writes_a_loadable_checkpoint(dataset_dir, tmp_path, one_thread):
    out, _ = dataset_dir
    cfg = AffordanceTrainConfig(
        data_dir=str(out),
        output_dir=str(tmp_path / "ckpt"),
        steps=4,
        batch_size=4,
        eval_every=2,
        val_fraction=0.5,
        command="test",
    )
    result = train_affordance(cfg)
    assert result["samples"] == 6 and result["val_samples"] == 3
    assert set(result["val"]["all"]) >= {"loss", "accuracy", "auc", "feasible_auc", "oracle_auc"}
    loaded = LearnedAffordance.from_pretrained(tmp_path / "ckpt")
    assert "test" in loaded.model_card and "Validation metrics" in loaded.model_card


def test_random_shift_keeps_shape_and_moves_pixels():
    images = torch.arange(2 * 8 * 8 * 3, dtype=torch.uint8).reshape(2, 8, 8, 3)
    shifted = random_shift(images, 2, torch.Generator().manual_seed(1))
    assert shifted.shape == images.shape and shifted.dtype == torch.uint8
    assert random_shift(images, 0, torch.Generator()) is images


def test_auc():
    assert auc(np.array([0.9, 0.8, 0.1]), np.array([1, 1, 0])) == 1.0
    assert auc(np.array([0.5, 0.5]), np.array([1, 0])) == 0.5
    assert auc(np.array([0.5]), np.array([1])) is None


def test_oracle_top1_counts_states_where_the_oracle_skill_wins():
    probs = np.array([0.9, 0.1, 0.2, 0.7, 0.3])
    oracle = np.array([True, False, True, False, False])
    episodes = np.array([0, 0, 1, 1, 2])  # state 2 has no oracle skill: not counted
    assert oracle_top1(probs, oracle, episodes) == 0.5
