"""The learned affordance: model outputs, batch == single, save/load, registry, bad checkpoints."""

import json

import numpy as np
import pytest
import torch

import vla.planning.affordance  # noqa: F401  (registers "learned")
from planners.affordance import make_affordance
from vla.language import SentenceEncoder
from vla.planning.affordance import BUNDLED_CHECKPOINT, AffordanceNet, LearnedAffordance

SKILLS = [
    "pick up the red block",
    "place the red block in the blue bowl",
    "place the red block at the top left corner",
    "go to the counter",
]


@pytest.fixture(scope="module")
def encoder():
    return SentenceEncoder()


@pytest.fixture(scope="module")
def affordance(encoder):
    torch.manual_seed(0)
    return LearnedAffordance(AffordanceNet(), encoder)


def observation(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    images = {cam: rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for cam in ("front", "wrist")}
    return {"images": images, "state": np.zeros(10, np.float32), "instruction": "x"}


def test_model_is_small():
    assert sum(p.numel() for p in AffordanceNet().parameters()) <= 500_000


def test_outputs_are_probabilities_and_batch_equals_single_calls(affordance, one_thread):
    obs = observation()
    batch = affordance.batch(obs, SKILLS)
    single = [affordance(obs, skill) for skill in SKILLS]
    assert len(batch) == len(SKILLS) and all(0.0 <= p <= 1.0 for p in batch)
    np.testing.assert_allclose(batch, single, rtol=1e-5, atol=1e-6)
    assert len(set(np.round(batch, 6))) > 1  # the skill text changes the score
    assert affordance.batch(obs, []) == []


def test_images_change_the_score(affordance):
    assert affordance(observation(0), SKILLS[0]) != affordance(observation(1), SKILLS[0])


def test_bad_observation_is_a_clear_error(affordance):
    with pytest.raises(ValueError, match="images"):
        affordance({"state": None}, SKILLS[0])
    obs = observation()
    obs["images"]["front"] = obs["images"]["front"][:32]
    with pytest.raises(ValueError, match="64x64x3"):
        affordance(obs, SKILLS[0])
    with pytest.raises(TypeError, match="list"):
        affordance.batch(observation(), SKILLS[0])


def test_save_load_round_trip_gives_identical_outputs(affordance, tmp_path):
    affordance.save_pretrained(tmp_path / "ckpt", model_card="# card\n")
    loaded = LearnedAffordance.from_pretrained(tmp_path / "ckpt")
    obs = observation(3)
    assert loaded.batch(obs, SKILLS) == affordance.batch(obs, SKILLS)
    assert loaded.model_card == "# card\n"
    again = make_affordance("learned", checkpoint=str(tmp_path / "ckpt"))
    assert again.batch(obs, SKILLS) == affordance.batch(obs, SKILLS)


def test_registered_factory_loads_the_bundled_checkpoint():
    assert (BUNDLED_CHECKPOINT / "model.safetensors").stat().st_size < 5_000_000
    bundled = make_affordance("learned", env=None)
    assert isinstance(bundled, LearnedAffordance)
    probs = bundled.batch(observation(), SKILLS)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert "vla-train-affordance" in bundled.model_card


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        make_affordance("learned", checkpoint=str(tmp_path / "nowhere"))


def test_corrupt_checkpoint_is_a_clear_error(affordance, tmp_path):
    ckpt = affordance.save_pretrained(tmp_path / "ckpt")
    weights = ckpt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ValueError, match="corrupt"):
        LearnedAffordance.from_pretrained(ckpt)


def test_policy_checkpoint_is_not_an_affordance(affordance, tmp_path):
    ckpt = affordance.save_pretrained(tmp_path / "ckpt")
    config = json.loads((ckpt / "config.json").read_text())
    (ckpt / "config.json").write_text(json.dumps({**config, "kind": "policy"}))
    with pytest.raises(ValueError, match="not a learned-affordance checkpoint"):
        make_affordance("learned", checkpoint=str(ckpt))
