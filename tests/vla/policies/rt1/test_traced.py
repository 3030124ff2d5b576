"""The traced forward pass gives the eager model's actions, with the weights loaded now."""

import numpy as np
import pytest
import torch

from vla.language import SentenceEncoder
from vla.policies import RT1Policy, load_policy
from vla.policies.rt1.model import RT1Config

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = RT1Config(
    image_size=32, history=2, cnn_channels=(8, 16), tokens_per_image=4, d_model=32,
    n_layers=2, n_heads=2, dropout=0.0, chunk=2, goal_head=True,
)  # fmt: skip
INSTRUCTIONS = ("pick up the red block", "place the red block in the blue bowl")


def observations(n: int, size: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "images": {
                c: rng.integers(0, 256, (size, size, 3), np.uint8) for c in ("front", "wrist")
            },
            "state": rng.normal(size=10).astype(np.float32),
            "instruction": INSTRUCTIONS[i % 2],
        }
        for i in range(n)
    ]


def chunks(policy: RT1Policy, obs: list[dict]) -> list[tuple[np.ndarray, np.ndarray]]:
    policy.reset()
    return [(policy.predict_chunk(o), policy.last_goal) for o in obs]


def same(a: list, b: list) -> bool:
    return all(np.array_equal(x, y) for pair_a, pair_b in zip(a, b) for x, y in zip(pair_a, pair_b))


def test_the_bundled_policy_acts_the_same_traced_and_eager():
    traced, eager = load_policy("rt1"), load_policy("rt1")
    eager.traced = False
    assert traced.traced and not eager.traced
    obs = observations(6, 64)
    assert same(chunks(traced, obs), chunks(eager, obs))
    assert traced._forward._traced is not None  # the trace ran, not the eager fallback


@pytest.mark.parametrize("state_dim", [10, 0], ids=["state", "no-state"])
def test_weights_loaded_after_the_trace_are_the_ones_used(state_dim):
    encoder = SentenceEncoder()
    config = RT1Config(**{**TINY.to_dict(), "state_dim": state_dim})
    torch.manual_seed(0)
    policy = RT1Policy(config, encoder=encoder)
    obs = observations(4, 32)
    before = chunks(policy, obs)  # traced with these weights
    torch.manual_seed(1)
    other = RT1Policy(config, encoder=encoder)
    policy.model.load_state_dict(other.model.state_dict())
    other.traced = False
    after = chunks(policy, obs)
    assert same(after, chunks(other, obs)) and not same(after, before)


def test_where_tracing_fails_the_eager_model_runs(monkeypatch, caplog):
    def fail(*args, **kwargs):
        raise RuntimeError("an op tracing cannot record")

    monkeypatch.setattr(torch.jit, "trace", fail)
    torch.manual_seed(0)
    policy = RT1Policy(TINY, encoder=SentenceEncoder())
    obs = observations(3, 32)
    got = chunks(policy, obs)
    assert not policy.traced and "tracing its forward pass failed" in caplog.text
    assert same(got, chunks(policy, obs))  # eager from then on, the same actions
