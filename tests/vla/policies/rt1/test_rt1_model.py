import json
import math

import pytest
import torch

from vla.policies.rt1 import RT1, FiLMCNN, RT1Config, TokenLearner, action_loss, token_accuracy
from vla.policies.rt1.model import Block, with_coordinates

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = RT1Config(
    image_size=32,
    n_cameras=2,
    history=2,
    text_dim=16,
    cnn_channels=(8, 16),
    tokens_per_image=4,
    d_model=32,
    n_layers=2,
    n_heads=2,
    dropout=0.0,
    state_dim=3,
)


def make_batch(config: RT1Config, batch: int, seed: int = 0):
    """Random uint8 images, text embeddings, states and valid target tokens."""
    g = torch.Generator().manual_seed(seed)
    c = config
    shape = (batch, c.history, c.n_cameras, 3, c.image_size, c.image_size)
    images = torch.randint(0, 256, shape, dtype=torch.uint8, generator=g)
    text = torch.randn(batch, c.text_dim, generator=g)
    state = torch.randn(batch, c.history, c.state_dim, generator=g) if c.state_dim else None
    targets = torch.randint(0, c.n_bins, (batch, c.n_action_dims), generator=g)
    targets[:, -1] = torch.randint(0, c.mode_vocab, (batch,), generator=g)
    return images, text, state, targets


def build(config: RT1Config, seed: int = 0) -> RT1:
    torch.manual_seed(seed)
    return RT1(config)


@pytest.mark.parametrize("config", [RT1Config(), TINY], ids=["default", "tiny"])
def test_forward_shape_and_mode_mask(config):
    model = build(config).eval()
    images, text, state, _ = make_batch(config, batch=2)
    logits = model(images, text, state)
    assert logits.shape == (2, 11, 256)
    assert torch.isinf(logits[:, 10, 3:]).all() and (logits[:, 10, 3:] < 0).all()
    assert torch.isfinite(logits[:, 10, :3]).all() and torch.isfinite(logits[:, :10]).all()
    tokens = model.predict_tokens(images, text, state)
    assert tokens.shape == (2, 11) and (tokens[:, 10] < 3).all()


def test_without_state():
    config = RT1Config(**{**TINY.to_dict(), "state_dim": 0})
    model = build(config)
    images, text, _, _ = make_batch(config, batch=1)
    assert model(images, text).shape == (1, 11, 256)
    with pytest.raises(ValueError, match="state_dim"):
        model(images, text, torch.zeros(1, 2, 3))


def test_spatial_coordinates_say_where_the_tokens_looked():
    feats = torch.zeros(1, 3, 4, 4)
    feats[0, 0, 2, 3] = 50.0  # one hot cell: row 2, column 3
    grid = with_coordinates(feats)
    assert grid.shape == (1, 5, 4, 4)
    assert grid[0, 3, 2, 3] == 0.75 and grid[0, 4, 2, 3] == 0.25  # its x, y centre
    learner = TokenLearner(5, n_tokens=1)
    with torch.no_grad():  # score = the first channel: attention goes to the hot cell
        learner.norm.weight.fill_(1.0)
        learner.norm.bias.zero_()
        learner.score[0].weight.zero_()
        learner.score[0].weight[0, 0] = 10.0
        learner.score[0].bias.zero_()
        learner.score[2].weight.fill_(1.0)
    token = learner(grid)[0, 0]
    assert torch.allclose(token[3:], torch.tensor([0.75, 0.25]), atol=1e-3)  # soft-argmax
    model = build(RT1Config(**{**TINY.to_dict(), "spatial_coords": True}))
    images, text, state, _ = make_batch(TINY, batch=1)
    assert model(images, text, state).shape == (1, 11, 256)
    assert model.image_proj.in_features == model.image_encoder.out_channels + 2


def test_goal_head_adds_a_query_and_only_returns_on_request():
    config = RT1Config(**{**TINY.to_dict(), "state_dim": 0, "goal_head": True})
    model = build(config).eval()
    images, text, _, _ = make_batch(config, batch=2)
    logits, goal = model(images, text, return_goal=True)
    assert logits.shape == (2, 11, 256) and goal.shape == (2, 3)
    assert torch.equal(model(images, text), logits)
    plain = build(RT1Config(**{**config.to_dict(), "goal_head": False}))
    with pytest.raises(ValueError, match="goal_head"):
        plain(images, text, return_goal=True)


def test_configs_saved_before_spatial_coords_load_without_them():
    old = {k: v for k, v in TINY.to_dict().items() if k != "spatial_coords"}
    assert RT1Config.from_dict(old).spatial_coords is False
    assert build(RT1Config.from_dict(old)).image_proj.in_features == 16


def test_input_validation():
    model = build(TINY)
    images, text, state, _ = make_batch(TINY, batch=1)
    with pytest.raises(TypeError, match="uint8"):
        model(images.float(), text, state)
    with pytest.raises(ValueError, match="images"):
        model(images[:, :1], text, state)
    with pytest.raises(ValueError, match="text_emb"):
        model(images, text[:, :5], state)
    with pytest.raises(ValueError, match="pass state"):
        model(images, text)


def test_default_param_count():
    n = build(RT1Config()).num_params()
    assert 1_000_000 <= n <= 3_000_000, n


def test_config_json_round_trip_and_validation():
    config = RT1Config(cnn_channels=(16, 32, 64), n_layers=3)
    restored = RT1Config.from_dict(json.loads(json.dumps(config.to_dict())))
    assert restored == config and restored.cnn_channels == (16, 32, 64)
    with pytest.raises(ValueError, match="unknown keys"):
        RT1Config.from_dict({"d_modle": 64})
    with pytest.raises(ValueError, match="n_heads"):
        RT1Config(d_model=130, n_heads=4)
    with pytest.raises(ValueError, match="reduction"):
        RT1Config(image_size=100)


def test_film_is_identity_at_init():
    model = build(RT1Config())
    text = torch.randn(3, 384)
    films = model.image_encoder.film_layers()
    assert len(films) == len(RT1Config().cnn_channels)
    for film in films:
        gamma, beta = film.gamma_beta(text)
        assert torch.equal(gamma, torch.ones_like(gamma))
        assert torch.equal(beta, torch.zeros_like(beta))
    # Hence the image features do not depend on the instruction yet ...
    images = torch.randint(0, 256, (3, 3, 96, 96), dtype=torch.uint8)
    encoder = model.image_encoder
    torch.testing.assert_close(encoder(images, text), encoder(images, torch.randn(3, 384)))
    # ... but FiLM receives gradient, so conditioning can be learned.
    encoder(images, text).square().mean().backward()
    assert all(film.proj.weight.grad.abs().sum() > 0 for film in films)


def test_loss_decreases_when_overfitting():
    model = build(TINY)
    images, text, state, targets = make_batch(TINY, batch=4)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = model.loss(model(images, text, state), targets)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    chance = (10 * math.log(256) + math.log(3)) / 11  # mode has 3 valid tokens
    assert losses[0] == pytest.approx(chance, rel=0.02)
    assert losses[-1] < 0.5 * losses[0]
    with torch.no_grad():
        acc = model.token_accuracy(model(images, text, state), targets)
    assert acc.shape == (11,) and acc.mean() > 0.5


def test_determinism_with_seed():
    images, text, state, _ = make_batch(TINY, batch=2)
    a, b = build(TINY, seed=7).eval(), build(TINY, seed=7).eval()
    with torch.no_grad():
        torch.testing.assert_close(a(images, text, state), b(images, text, state), rtol=0, atol=0)
        torch.testing.assert_close(a(images, text, state), a(images, text, state), rtol=0, atol=0)
    assert not torch.equal(build(TINY, seed=8).head.weight, a.head.weight)


def test_readout_block_matches_full_block():
    block = Block(TINY).eval()
    x = torch.randn(2, 20, TINY.d_model)
    with torch.no_grad():
        torch.testing.assert_close(block(x, n_query=5), block(x)[:, -5:])


def test_token_learner_and_cnn_shapes():
    feats = FiLMCNN((8, 16, 32), text_dim=16)(
        torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8), torch.randn(2, 16)
    )
    assert feats.shape == (2, 32, 4, 4)
    tl = TokenLearner(32, n_tokens=5)
    assert tl(feats).shape == (2, 5, 32)
    torch.testing.assert_close(tl.attention(feats).sum(-1), torch.ones(2, 5))


def test_loss_and_accuracy_values():
    logits = torch.full((2, 11, 256), -10.0)
    targets = torch.randint(0, 3, (2, 11))
    logits.scatter_(2, targets[..., None], 10.0)
    assert action_loss(logits, targets) < 1e-6
    assert torch.equal(token_accuracy(logits, targets), torch.ones(11))
    with pytest.raises(ValueError):
        action_loss(logits, targets[:, :5])
