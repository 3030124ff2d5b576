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


def test_stall_toggle_steps_round_trip_and_bad_value(encoder, tmp_path):
    torch.manual_seed(0)
    policy = RT1Policy(TINY, encoder=encoder, stall_toggle_steps=3)
    path = policy.save_pretrained(tmp_path / "rt1")
    assert json.loads((path / "config.json").read_text())["stall_toggle_steps"] == 3
    assert RT1Policy.from_pretrained(path, encoder=encoder).stall_toggle.steps == 3
    config = json.loads((path / "config.json").read_text())
    config["stall_toggle_steps"] = -2
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="stall_toggle_steps must be an integer >= 0"):
        RT1Policy.from_pretrained(path, encoder=encoder)


def test_stall_goal_gate_uses_the_goal_head_and_round_trips(encoder, tmp_path):
    torch.manual_seed(0)
    config = RT1Config(**{**TINY.to_dict(), "goal_head": True})
    policy = RT1Policy(config, encoder=encoder, stall_toggle_steps=1, stall_goal_reach=0.06)
    with torch.no_grad():  # a still arm with the gripper closed; the goal 12 cm below
        policy.model.head.weight.zero_()
        policy.model.head.bias.zero_()
        policy.model.head.bias[128] = 10.0
        policy.model.goal_out.weight.zero_()
        policy.model.goal_out.bias.copy_(torch.tensor([0.0, 0.0, -1.2]))
    actions = rollout(policy, observations(12))
    assert np.allclose(actions[:10, :3], [0.0, 0.0, -1.0])  # homes down, gripper closed
    assert (actions[:10, 6] > 0).all() and (actions[10:, 6] == -1.0).all()
    path = policy.save_pretrained(tmp_path / "rt1")
    assert RT1Policy.from_pretrained(path, encoder=encoder).stall_toggle.goal_reach == 0.06
    with pytest.raises(ValueError, match="needs a model with a goal head"):
        RT1Policy(TINY, encoder=encoder, stall_toggle_steps=1, stall_goal_reach=0.06)
    saved = json.loads((path / "config.json").read_text())
    saved["model"]["goal_head"] = False
    (path / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError, match="needs a model with a goal head"):
        RT1Policy.from_pretrained(path, encoder=encoder)
