"""RT-1 style policy (Brohan et al. 2022), small enough to train and run on a CPU.

Per frame and camera, a FiLM-conditioned CNN encodes the image and TokenLearner reduces it
to ``tokens_per_image`` tokens. With learned time/camera/token position embeddings, one
instruction token and one proprioception token per frame, they form the context for a
pre-LN transformer. Eleven learned action queries are appended and read out in parallel as
per-dimension logits over 256 action bins (see ``vla.tokenizer.ActionTokenizer``); the mode
dimension only has 3 valid tokens, so its other logits are masked to -inf.

Action chunks (``chunk`` = k > 1, as in ACT and OpenVLA-OFT): each action query reads out
its dimension for the next k control steps at once (k x 11 tokens in one forward pass), so
the network commits to where a motion is going, gripper flip included, rather than to one
step; the policy executes chunks with ACT's temporal ensembling (:mod:`vla.policies.rt1.policy`).

RT-1 decodes action tokens with a causal decoder; here the queries attend to the whole
context at once (no causal mask), which is equivalent for a one-step readout and cheaper.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from sim.contract import ACTION_DIM, CAMERA_NAMES, STATE_DIM
from vla.policies.rt1.film_cnn import FiLMCNN
from vla.policies.rt1.token_learner import TokenLearner


@dataclass(frozen=True)
class RT1Config:
    """Hyper-parameters (JSON round-trip via ``to_dict``/``from_dict``); ~1.1 M params."""

    image_size: int = 64  # square input, pixels
    n_cameras: int = len(CAMERA_NAMES)  # front, wrist
    history: int = 2  # frames of context, oldest first
    text_dim: int = 384  # instruction embedding width (MiniLM)
    cnn_channels: tuple[int, ...] = (24, 48, 96)  # stem, then one stride-2 stage each
    cnn_stem_stride: int = 4  # patchify stem: 64 px -> 16 -> 8 -> 4
    cnn_residual_blocks: int = 1  # residual convs in the last (low-res) stages
    film: bool = True  # FiLM-condition the CNN on the instruction
    tokens_per_image: int = 8  # TokenLearner output tokens
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    mlp_ratio: int = 4
    dropout: float = 0.1
    n_bins: int = 256  # action token vocabulary per continuous dimension
    n_action_dims: int = ACTION_DIM  # last one is the discrete mode
    mode_vocab: int = 3  # arm, base, terminate
    state_dim: int = STATE_DIM  # proprioception vector; 0 disables the state tokens
    # x/y coordinate channels appended to the CNN features before TokenLearner, so each
    # pooled token carries where it looked (a spatial soft-argmax). Without them the pooled
    # tokens of a translation-equivariant CNN barely say *where* a block is. Off by default
    # (configs saved before it load without it); the bundled checkpoint is built with it.
    spatial_coords: bool = False
    # One more query token whose output regresses the hand's offset (decimetres) to the
    # point where the skill grasps or releases (vla.policies.rt1.goals): an auxiliary loss that
    # can only be met by finding the named object in the images. Off by default.
    goal_head: bool = False
    chunk: int = 1  # actions predicted per forward pass (the next k control steps)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cnn_channels", tuple(int(c) for c in self.cnn_channels))
        positive = ("image_size", "n_cameras", "history", "text_dim", "tokens_per_image")
        positive += ("d_model", "n_layers", "n_heads", "mlp_ratio", "n_bins", "cnn_stem_stride")
        positive += ("chunk",)
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"RT1Config.{name} must be >= 1, got {getattr(self, name)}")
        if not self.cnn_channels or min(self.cnn_channels) < 1:
            raise ValueError(f"RT1Config.cnn_channels must be positive, got {self.cnn_channels}")
        if self.image_size % self.cnn_reduction:
            raise ValueError(
                f"RT1Config.image_size must be divisible by the CNN reduction {self.cnn_reduction}"
            )
        if not 0 <= self.cnn_residual_blocks <= len(self.cnn_channels):
            raise ValueError("RT1Config.cnn_residual_blocks must be in [0, len(cnn_channels)]")
        if self.d_model % self.n_heads:
            raise ValueError("RT1Config.d_model must be divisible by n_heads")
        if not 2 <= self.mode_vocab <= self.n_bins or self.n_action_dims < 1:
            raise ValueError("RT1Config needs 2 <= mode_vocab <= n_bins and n_action_dims >= 1")
        if not 0.0 <= self.dropout < 1.0 or self.state_dim < 0:
            raise ValueError("RT1Config needs 0 <= dropout < 1 and state_dim >= 0")

    @property
    def cnn_reduction(self) -> int:
        """Image side / feature-map side: stem stride times 2 per later stage."""
        return self.cnn_stem_stride * 2 ** (len(self.cnn_channels) - 1)

    @property
    def feature_size(self) -> int:
        """Side of the CNN output map (4 at the defaults)."""
        return self.image_size // self.cnn_reduction

    @property
    def n_context_tokens(self) -> int:
        """Transformer context length before the action queries."""
        n_image = self.history * self.n_cameras * self.tokens_per_image
        return 1 + (self.history if self.state_dim else 0) + n_image

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (tuples become lists)."""
        data = asdict(self)
        data["cnn_channels"] = list(self.cnn_channels)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RT1Config:
        """Inverse of ``to_dict``; unknown keys raise ValueError, missing keys use defaults."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"RT1Config.from_dict: unknown keys {sorted(unknown)}")
        return cls(**data)


class SelfAttention(nn.Module):
    """Multi-head self-attention without a mask (every token sees every token).

    With ``n_query`` set, only the last ``n_query`` tokens are updated (keys and values
    still come from the whole sequence); the final block uses this because only the
    action-query outputs are read.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.c_attn = nn.Linear(d_model, 3 * d_model)
        self.c_proj = nn.Linear(d_model, d_model)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, n_query: int | None = None) -> torch.Tensor:
        """(B, L, D) -> (B, L, D), or (B, n_query, D) for the last n_query tokens."""
        b, length, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        if n_query is not None:
            q = q[:, length - n_query :]
        q, k, v = (t.view(b, t.shape[1], self.n_heads, -1).transpose(1, 2) for t in (q, k, v))
        y = self._attend(q, k, v)  # (B, H, Lq, D/H)
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(b, -1, d)))

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """softmax(q k^T / sqrt(d)) v as two batched matmuls, the softmax in float32.

        The context is ~30 tokens, so the score matrix is tiny. Written out, both matmuls run
        on the CPU's bfloat16 matrix units under autocast; PyTorch's fused CPU attention has
        a bfloat16 backward ~5x slower than its float32 one at this size (``torch.profiler`` on
        one training step), which made bf16 training slower than fp32.
        """
        scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
        weights = scores.float().softmax(dim=-1).to(v.dtype)
        if self.training and self.dropout:
            weights = F.dropout(weights, self.dropout)
        return weights @ v


class MLP(nn.Module):
    """Position-wise feed-forward: Linear -> ReLU -> Linear (ReLU: GELU is ~10x slower on CPU)."""

    def __init__(self, d_model: int, ratio: int, dropout: float) -> None:
        super().__init__()
        self.c_fc = nn.Linear(d_model, ratio * d_model)
        self.c_proj = nn.Linear(ratio * d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, L, D)."""
        return self.dropout(self.c_proj(F.relu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: RT1Config) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model)
        self.attn = SelfAttention(config.d_model, config.n_heads, config.dropout)
        self.ln_2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config.d_model, config.mlp_ratio, config.dropout)

    def forward(self, x: torch.Tensor, n_query: int | None = None) -> torch.Tensor:
        """(B, L, D) -> (B, L, D), or only the last n_query tokens (B, n_query, D)."""
        h = self.attn(self.ln_1(x), n_query)
        x = x + h if n_query is None else x[:, x.shape[1] - n_query :] + h
        return x + self.mlp(self.ln_2(x))


def with_coordinates(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C + 2, H, W): x and y of each cell's centre, in [-1, 1]."""
    b, _, h, w = features.shape
    ys = torch.linspace(-1 + 1 / h, 1 - 1 / h, h, device=features.device, dtype=features.dtype)
    xs = torch.linspace(-1 + 1 / w, 1 - 1 / w, w, device=features.device, dtype=features.dtype)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"))  # (2, H, W): x, y
    return torch.cat([features, grid.expand(b, -1, -1, -1)], dim=1)


def action_loss(logits: torch.Tensor, target_tokens: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over batch, chunk steps and action dimensions.

    Args:
        logits: (B, A, V) or (B, k, A, V) from ``RT1.forward``.
        target_tokens: (B, A) or (B, k, A) int64 tokens from ``ActionTokenizer.encode``.
    """
    if logits.shape[:-1] != target_tokens.shape:
        raise ValueError(f"logits {tuple(logits.shape)} vs targets {tuple(target_tokens.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target_tokens.reshape(-1).long())


def token_accuracy(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Per-dimension exact-token accuracy, over the batch and chunk steps:
    (B, [k,] A, V), (B, [k,] A) -> (A,) float in [0, 1]."""
    if logits.shape[:-1] != tokens.shape:
        raise ValueError(f"logits {tuple(logits.shape)} vs tokens {tuple(tokens.shape)}")
    hits = logits.float().argmax(dim=-1) == tokens  # argmax is slow on bf16 on the CPU
    return hits.float().reshape(-1, tokens.shape[-1]).mean(dim=0)


class RT1(nn.Module):
    """Images + instruction embedding (+ proprioception) -> action-token logits."""

    def __init__(self, config: RT1Config) -> None:
        super().__init__()
        self.config = c = config
        d = c.d_model
        self.image_encoder = FiLMCNN(
            c.cnn_channels, c.text_dim, c.cnn_residual_blocks, c.film, c.cnn_stem_stride
        )
        feature_channels = self.image_encoder.out_channels + (2 if c.spatial_coords else 0)
        self.token_learner = TokenLearner(feature_channels, c.tokens_per_image)
        self.image_proj = nn.Linear(feature_channels, d)
        self.text_proj = nn.Linear(c.text_dim, d)
        self.state_proj = nn.Linear(c.state_dim, d) if c.state_dim else None
        # Learned positions: image tokens get time + camera + token-slot embeddings.
        self.time_emb = nn.Parameter(torch.zeros(c.history, d))
        self.camera_emb = nn.Parameter(torch.zeros(c.n_cameras, d))
        self.token_emb = nn.Parameter(torch.zeros(c.tokens_per_image, d))
        self.text_type_emb = nn.Parameter(torch.zeros(d))
        self.state_type_emb = nn.Parameter(torch.zeros(d))
        # the 11 action queries, then the goal query when goal_head is on
        self.action_queries = nn.Parameter(torch.zeros(c.n_action_dims + c.goal_head, d))
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, c.chunk * c.n_bins)  # each query: its dimension, k steps
        self.goal_out = nn.Linear(d, 3) if c.goal_head else None
        mask = torch.zeros(c.n_action_dims, c.n_bins, dtype=torch.bool)
        mask[-1, c.mode_vocab :] = True  # mode (last dim) has only mode_vocab valid tokens
        self.register_buffer("logit_mask", mask, persistent=False)
        self._init_weights()

    def _init_weights(self) -> None:
        """GPT-2 init for the token projections and transformer.

        The CNN and TokenLearner keep PyTorch's fan-in init: a 0.02-std TokenLearner would
        start with near-uniform, near-identical attention maps. FiLM stays zero (identity).
        """
        encoders = {*self.image_encoder.modules(), *self.token_learner.modules()}
        for module in self.modules():
            if isinstance(module, nn.Linear) and module not in encoders:
                nn.init.normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):  # residual projections, scaled by depth
                nn.init.normal_(param, std=0.02 / math.sqrt(2 * self.config.n_layers))
        embeddings = (self.time_emb, self.camera_emb, self.token_emb, self.action_queries)
        for emb in (*embeddings, self.text_type_emb, self.state_type_emb):
            nn.init.normal_(emb, std=0.02)

    def num_params(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def _check_inputs(
        self, images: torch.Tensor, text_emb: torch.Tensor, state: torch.Tensor | None
    ) -> None:
        c = self.config
        expected = (c.history, c.n_cameras, 3, c.image_size, c.image_size)
        if images.dim() != 6 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"images must be (B, *{expected}) uint8, got {tuple(images.shape)}")
        b = images.shape[0]
        if tuple(text_emb.shape) != (b, c.text_dim):
            raise ValueError(f"text_emb must be ({b}, {c.text_dim}), got {tuple(text_emb.shape)}")
        if c.state_dim and (state is None or tuple(state.shape) != (b, c.history, c.state_dim)):
            got = None if state is None else tuple(state.shape)
            raise ValueError(
                f"state must be ({b}, {c.history}, {c.state_dim}), got {got}; "
                "pass state or build the model with state_dim=0"
            )
        if not c.state_dim and state is not None:
            raise ValueError("state given but config.state_dim == 0")

    def image_tokens(self, images: torch.Tensor, text_emb: torch.Tensor) -> torch.Tensor:
        """(B, T, N, 3, H, W) uint8, (B, text_dim) -> (B, T*N*S, d_model) with positions."""
        b, t, n = images.shape[:3]
        flat = images.reshape(b * t * n, *images.shape[3:])
        feats = self.image_encoder(flat, text_emb.repeat_interleave(t * n, dim=0))
        if self.config.spatial_coords:
            feats = with_coordinates(feats)
        tokens = self.image_proj(self.token_learner(feats))  # (B*T*N, S, D)
        tokens = tokens.view(b, t, n, -1, self.config.d_model)
        pos = (
            self.time_emb[:, None, None]
            + self.camera_emb[None, :, None]
            + self.token_emb[None, None, :]
        )
        return (tokens + pos).flatten(1, 3)

    def forward(
        self,
        images: torch.Tensor,
        text_emb: torch.Tensor,
        state: torch.Tensor | None = None,
        return_goal: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Predict action-token logits.

        Args:
            images: (B, T, n_cameras, 3, H, W) uint8, frames oldest first.
            text_emb: (B, text_dim) float instruction embedding.
            state: (B, T, state_dim) float proprioception; required iff state_dim > 0.
            return_goal: also return the goal head's (B, 3) offset in decimetres (needs
                ``goal_head``).

        Returns:
            (B, n_action_dims, n_bins) float logits, or (B, chunk, n_action_dims, n_bins) when
            ``chunk`` > 1; the mode row is -inf at >= mode_vocab.
        """
        self._check_inputs(images, text_emb, state)
        if return_goal and self.goal_out is None:
            raise ValueError("return_goal=True needs a model built with goal_head=True")
        parts = [(self.text_proj(text_emb) + self.text_type_emb)[:, None]]
        if self.state_proj is not None:
            parts.append(self.state_proj(state.float()) + self.time_emb + self.state_type_emb)
        parts.append(self.image_tokens(images, text_emb))
        parts.append(self.action_queries.expand(images.shape[0], -1, -1))
        x = self.drop(torch.cat(parts, dim=1))
        n_query = self.action_queries.shape[0]
        for block in self.blocks[:-1]:
            x = block(x)
        x = self.ln_f(self.blocks[-1](x, n_query=n_query))  # only the queries are read
        c = self.config
        logits = self.head(x[:, : c.n_action_dims])  # (B, n_act, k * n_bins)
        logits = logits.view(-1, c.n_action_dims, c.chunk, c.n_bins).transpose(1, 2)
        logits = logits.masked_fill(self.logit_mask, float("-inf"))  # (B, k, n_act, n_bins)
        if c.chunk == 1:
            logits = logits[:, 0]
        return (logits, self.goal_out(x[:, -1])) if return_goal else logits

    @torch.no_grad()
    def predict_tokens(
        self,
        images: torch.Tensor,
        text_emb: torch.Tensor,
        state: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Greedy action tokens (B, [chunk,] n_action_dims) int64 for ``ActionTokenizer.decode``."""
        return self(images, text_emb, state).argmax(dim=-1)

    # Also exposed as methods so training code can call model.loss(...).
    loss = staticmethod(action_loss)
    token_accuracy = staticmethod(token_accuracy)
