import json

import numpy as np
import pytest
import torch

from vla.language import SentenceEncoder
from vla.policies import POLICIES, Policy, RT1Policy, load_policy, register_policy
from vla.policies.rt1.model import RT1Config

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = RT1Config(
    image_size=32,
    history=2,
    cnn_channels=(8, 16),
    tokens_per_image=4,
    d_model=32,
    n_layers=2,
    n_heads=2,
    dropout=0.0,
)


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()  # loaded once per module: model load dominates runtime


@pytest.fixture
def policy(encoder) -> RT1Policy:
    torch.manual_seed(0)
    return RT1Policy(TINY, encoder=encoder)


def observations(n: int, size: int = 32, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "images": {
                cam: rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                for cam in ("front", "wrist")
            },
            "state": rng.normal(size=10).astype(np.float32),
            "instruction": "pick up the red block",
        }
        for _ in range(n)
    ]


def rollout(policy: Policy, obs: list[dict]) -> np.ndarray:
    policy.reset()
    return np.stack([policy.select_action(o) for o in obs])


def test_select_action_contract(policy):
    for obs in observations(3) + observations(2, size=48):  # 48 px is resized to 32
        action = policy.select_action(obs)
        assert action.dtype == np.float32 and action.shape == (11,)
        assert np.isfinite(action).all() and action[10] in (0.0, 1.0, 2.0)
        assert np.all(np.abs(action[:10]) <= 1.0)  # untrained stats: q01 = -1, q99 = 1


def test_history_padding_across_reset(policy):
    first, second = observations(2)
    seen = []
    policy.traced = False  # the traced graph calls no module hooks
    hook = policy.model.register_forward_pre_hook(lambda _m, args: seen.append(args[0].clone()))
    policy.select_action(second)
    policy.reset()
    policy.select_action(first)  # new episode: history is [first, first]
    policy.select_action(second)  # then [first, second]
    hook.remove()
    frame = [
        torch.from_numpy(np.stack([o["images"][c] for c in ("front", "wrist")])).permute(0, 3, 1, 2)
        for o in (first, second)
    ]
    assert torch.equal(seen[1][0, 0], frame[0]) and torch.equal(seen[1][0, 1], frame[0])
    assert torch.equal(seen[2][0, 0], frame[0]) and torch.equal(seen[2][0, 1], frame[1])


def test_save_load_round_trip_same_actions(policy, encoder, tmp_path):
    obs = observations(4)
    expected = rollout(policy, obs)
    path = policy.save_pretrained(tmp_path / "rt1")
    config = json.loads((path / "config.json").read_text())
    assert config["policy"] == "rt1" and config["camera_names"] == ["front", "wrist"]
    assert config["language_model"] == "all-MiniLM-L6-v2"
    assert (path / "README.md").read_text().startswith("# RT-1 policy")
    loaded = RT1Policy.from_pretrained(path, encoder=encoder)
    for name, tensor in policy.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor), name
    np.testing.assert_array_equal(rollout(loaded, obs), expected)
    np.testing.assert_array_equal(rollout(load_policy(str(path), encoder=encoder), obs), expected)


def test_registry(encoder, tmp_path):
    assert POLICIES["rt1"] is RT1Policy
    fresh = load_policy("rt1", pretrained=False, config=TINY, encoder=encoder)
    assert isinstance(fresh, RT1Policy) and fresh.config == TINY
    with pytest.raises(ValueError, match=r"unknown policy 'nope'.*\(rt1, rt2\)"):
        load_policy("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_policy("rt1")(type("Other", (RT1Policy,), {}))
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "config.json").write_text('{"policy": "mystery"}')
    with pytest.raises(ValueError, match="names policy 'mystery'; registered: rt1, rt2"):
        load_policy(tmp_path / "odd")


def test_corrupt_and_missing_files(policy, encoder, tmp_path):
    path = policy.save_pretrained(tmp_path / "rt1")
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ValueError, match="model.safetensors is corrupt or truncated"):
        RT1Policy.from_pretrained(path, encoder=encoder)
    weights.unlink()
    with pytest.raises(ValueError, match="is missing model.safetensors"):
        load_policy(str(path), encoder=encoder)


def test_weights_not_matching_config(policy, encoder, tmp_path):
    path = policy.save_pretrained(tmp_path / "rt1")
    config = json.loads((path / "config.json").read_text())
    config["model"]["d_model"] = 64
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="does not match its config.json: size mismatch") as err:
        RT1Policy.from_pretrained(path, encoder=encoder)
    assert "\n" not in str(err.value)


def test_runs_in_simulator(policy):
    from sim.env import VLAEnv

    env = VLAEnv("tabletop", image_size=policy.image_size)
    try:
        obs, _ = env.reset(seed=0)
        policy.reset()
        for _ in range(5):
            action = policy.select_action(obs)
            obs, _reward, terminated, truncated, _info = env.step(action)
            assert not truncated
            if terminated:
                break
    finally:
        env.close()


def test_a_checkpoint_that_turns_on_the_stall_rule_is_refused(policy, tmp_path):
    path = policy.save_pretrained(tmp_path / "rt1")
    config = json.loads((path / "config.json").read_text())
    assert "stall_toggle_steps" not in config  # the policy saves no rule
    config["stall_toggle_steps"] = 3
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="no longer part of RT-1.*policy_filter=stall_toggle"):
        RT1Policy.from_pretrained(path, encoder=policy.encoder)


def chunk_policy(encoder, execution: str) -> RT1Policy:
    torch.manual_seed(0)
    config = RT1Config(**{**TINY.to_dict(), "chunk": 4, "goal_head": True})
    return RT1Policy(config, encoder=encoder, chunk_execution=execution)


def test_chunks_predict_k_actions_and_round_trip(encoder, tmp_path):
    policy = chunk_policy(encoder, "ensemble")
    policy.reset()
    chunk = policy.predict_chunk(observations(1)[0])
    assert chunk.shape == (4, 11) and chunk.dtype == np.float32
    assert policy.last_goal is not None and policy.last_goal.shape == (3,)
    path = policy.save_pretrained(tmp_path / "rt1")
    loaded = RT1Policy.from_pretrained(path, encoder=encoder)
    assert loaded.config.chunk == 4 and loaded.chunk_execution == "ensemble"
    obs = observations(6)
    assert np.array_equal(rollout(policy, obs), rollout(loaded, obs))


def test_receding_horizon_predicts_once_per_chunk(encoder):
    policy = chunk_policy(encoder, "receding")
    calls = []
    predict = policy.predict_chunk
    policy.predict_chunk = lambda o: calls.append(1) or predict(o)
    actions = rollout(policy, observations(9))
    assert len(calls) == 3 and actions.shape == (9, 11)  # steps 0, 4 and 8 predict


def test_ensembled_action_averages_the_overlapping_predictions(encoder):
    policy = chunk_policy(encoder, "ensemble")
    obs = observations(3)
    policy.reset()
    chunks = [policy.predict_chunk(o) for o in obs]
    policy.reset()
    acted = [policy.select_action(o) for o in obs]
    weights = np.exp(-0.01 * np.arange(3))
    expected = (weights[:, None] * np.stack([chunks[0][2], chunks[1][1], chunks[2][0]])).sum(0)
    expected /= weights.sum()
    assert np.allclose(acted[2][:6], expected[:6], atol=1e-5)
    assert acted[2][6] in (-1.0, 1.0) and acted[2][10] in (0.0, 1.0, 2.0)
