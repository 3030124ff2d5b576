import json

import numpy as np
import pytest

from vla.tokenizer import (
    ACTION_NAMES,
    MODE_INDEX,
    N_ACTION_DIMS,
    ActionTokenizer,
    MuLawTokenizer,
    NormStats,
    mu_law_decode,
    mu_law_encode,
)


def random_actions(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform continuous dims in [-1, 1], modes in {0, 1, 2}; shape (n, 11)."""
    actions = rng.uniform(-1.0, 1.0, size=(n, N_ACTION_DIMS))
    actions[:, MODE_INDEX] = rng.integers(0, 3, size=n)
    return actions


@pytest.fixture
def stats() -> NormStats:
    return NormStats.from_actions(random_actions(np.random.default_rng(0), 2000))


@pytest.fixture
def tokenizer(stats: NormStats) -> ActionTokenizer:
    return ActionTokenizer(stats)


def test_constants():
    assert N_ACTION_DIMS == 11 and MODE_INDEX == 10
    assert len(ACTION_NAMES) == 11 and ACTION_NAMES[MODE_INDEX] == "mode"
    assert ACTION_NAMES[0] == "world_vector_x" and ACTION_NAMES[6] == "gripper_closedness"


def test_vocab_sizes(tokenizer):
    assert tokenizer.vocab_sizes == (256,) * 10 + (3,)


def test_stats_are_percentiles():
    actions = random_actions(np.random.default_rng(1), 500)
    stats = NormStats.from_actions(actions)
    q01, q99 = np.quantile(actions[:, :10], [0.01, 0.99], axis=0)
    np.testing.assert_allclose(stats.q01, q01, rtol=1e-6)
    np.testing.assert_allclose(stats.q99, q99, rtol=1e-6)
    assert stats.q01.dtype == np.float32 and stats.q01.shape == (10,)


def test_degenerate_dimension_is_widened():
    actions = random_actions(np.random.default_rng(2), 300)
    actions[:, 7] = 0.25  # e.g. no base motion in an arm-only dataset
    stats = NormStats.from_actions(actions)
    assert stats.q01[7] < 0.25 < stats.q99[7]
    np.testing.assert_allclose(stats.q01[7] + stats.q99[7], 0.5, atol=1e-6)
    tokens = ActionTokenizer(stats).encode(actions)
    decoded = ActionTokenizer(stats).decode(tokens)
    assert np.isfinite(decoded).all()
    np.testing.assert_allclose(decoded[:, 7], 0.25, atol=1e-5)


def test_stats_json_round_trip(stats):
    restored = NormStats.from_dict(json.loads(json.dumps(stats.to_dict())))
    np.testing.assert_array_equal(restored.q01, stats.q01)
    np.testing.assert_array_equal(restored.q99, stats.q99)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d.pop("q99"), "missing"),
        (lambda d: d.update(extra=1), "unknown"),
        (lambda d: d.update(q01=[0.0] * 9), "shape"),
        (lambda d: d.update(q01=[float("nan")] * 10), "NaN"),
        (lambda d: d.update(q01=d["q99"]), "q99 - q01"),
        (lambda d: d.update(names=["a"] * 10), "names"),
        (lambda d: d.update(q01="abc"), "q01"),
    ],
)
def test_stats_from_dict_validation(stats, mutate, match):
    data = stats.to_dict()
    mutate(data)
    with pytest.raises(ValueError, match=match):
        NormStats.from_dict(data)


def test_round_trip_within_half_bin(stats, tokenizer):
    rng = np.random.default_rng(3)
    actions = random_actions(rng, 4000).reshape(40, 100, 11)  # arbitrary leading dims
    actions[..., :10] = rng.uniform(stats.q01, stats.q99, size=(40, 100, 10))
    actions[0, 0, :10] = stats.q01  # both ends of the range
    actions[0, 1, :10] = stats.q99
    tokens = tokenizer.encode(actions)
    assert tokens.dtype == np.int64 and tokens.shape == actions.shape
    decoded = tokenizer.decode(tokens)
    assert decoded.dtype == np.float32 and decoded.shape == actions.shape
    half_bin = (stats.q99.astype(np.float64) - stats.q01) / (2 * 256)
    err = np.abs(decoded[..., :10] - actions[..., :10])
    assert (err <= half_bin + 1e-6).all()
    np.testing.assert_array_equal(decoded[..., MODE_INDEX], actions[..., MODE_INDEX])
    assert tokenizer.clip_count == 0


def test_range_ends_and_bin_centres(stats, tokenizer):
    actions = np.zeros((2, 11))
    actions[0, :10], actions[1, :10] = stats.q01, stats.q99
    tokens = tokenizer.encode(actions)
    assert (tokens[0, :10] == 0).all() and (tokens[1, :10] == 255).all()
    centre_0 = stats.q01 + 0.5 * tokenizer.bin_width  # decode to bin centres, not edges
    np.testing.assert_allclose(tokenizer.decode(tokens)[0, :10], centre_0, rtol=1e-5)


def test_clipping_is_counted(stats, tokenizer):
    actions = np.zeros((3, 11))
    actions[0, 0] = stats.q99[0] + 1.0
    actions[1, 0] = stats.q01[0] - 1.0
    actions[2, 6] = stats.q99[6] + 0.5
    tokens = tokenizer.encode(actions)
    assert tokens[0, 0] == 255 and tokens[1, 0] == 0 and tokens[2, 6] == 255
    assert tokenizer.clip_count == 3
    assert tokenizer.clip_count_per_dim.tolist() == [2, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    tokenizer.reset_clip_count()
    assert tokenizer.clip_count == 0 and tokenizer.clip_count_per_dim.sum() == 0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_names_dimension(tokenizer, bad):
    actions = np.zeros((2, 11))
    actions[1, 6] = bad
    with pytest.raises(ValueError, match=r"dimension 6 \(gripper_closedness\)"):
        tokenizer.encode(actions)


@pytest.mark.parametrize("mode", [3, -1, 1.5])
def test_invalid_mode(tokenizer, mode):
    actions = np.zeros((1, 11))
    actions[0, MODE_INDEX] = mode
    with pytest.raises(ValueError, match="mode"):
        tokenizer.encode(actions)


def test_wrong_shape(tokenizer):
    with pytest.raises(ValueError, match="shape"):
        tokenizer.encode(np.zeros((2, 7)))
    with pytest.raises(ValueError, match="shape"):
        tokenizer.decode(np.zeros((2, 7), dtype=np.int64))


@pytest.mark.parametrize("dim, value", [(0, 256), (3, -1), (10, 3)])
def test_decode_out_of_range_tokens(tokenizer, dim, value):
    tokens = np.zeros((2, 11), dtype=np.int64)
    tokens[1, dim] = value
    with pytest.raises(ValueError, match=f"dimension {dim} \\({ACTION_NAMES[dim]}\\)"):
        tokenizer.decode(tokens)


def test_decode_rejects_float_tokens(tokenizer):
    with pytest.raises(ValueError, match="integer"):
        tokenizer.decode(np.zeros((1, 11)))


def test_mu_law_matches_gato_formula():
    x = np.array([-256.0, -1.0, 0.0, 0.01, 1.0, 256.0])
    expected = np.sign(x) * np.log(np.abs(x) * 100 + 1) / np.log(256 * 100 + 1)
    np.testing.assert_allclose(mu_law_encode(x), expected, rtol=1e-12)
    np.testing.assert_allclose(mu_law_encode(np.array([256.0, -256.0])), [1.0, -1.0])
    np.testing.assert_allclose(mu_law_decode(mu_law_encode(x)), x, rtol=1e-9, atol=1e-12)


def test_mu_law_tokenizer_round_trip():
    tok = MuLawTokenizer()
    assert tok.n_bins == 1024
    x = np.concatenate([np.linspace(-3, 3, 1001), [0.0, 1e-4, -1e-4]]).reshape(-1, 4)
    tokens = tok.encode(x)
    assert tokens.dtype == np.int64 and tokens.shape == x.shape
    assert tokens.min() >= 0 and tokens.max() < 1024
    assert (np.diff(tok.encode(np.sort(x.ravel()))) >= 0).all()  # monotone
    decoded = tok.decode(tokens)
    assert decoded.dtype == np.float32
    # Half a bin in mu-law space, mapped back through the steepest part of the inverse.
    y = mu_law_encode(np.abs(x)) + 1.0 / 1024
    bound = mu_law_decode(y) - np.abs(x)
    assert (np.abs(decoded - x) <= bound + 1e-6).all()


def test_mu_law_tokenizer_saturates_and_validates():
    tok = MuLawTokenizer()
    assert tok.encode(np.array([1e6, -1e6])).tolist() == [1023, 0]
    with pytest.raises(ValueError, match="NaN or inf"):
        tok.encode(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="out of range"):
        tok.decode(np.array([1024]))
