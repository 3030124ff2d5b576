"""The Say head: scores every candidate skill of a step from frozen MiniLM token states.

What it reads (each text encoded on its own by MiniLM, :mod:`vla.planning.say.features`):
the instruction (every word piece), the scene's object names, the facts at the start of the
episode and the facts now, and the candidate skills. Layout, with ``d = width``:

1. Every token state is projected 384 -> d. Object names, facts and skills are pooled into
   a few slot vectors each by attention with learned queries (an object 1, a fact or a
   skill ``slots``), so that "red block on blue block" and "blue block on red block" stay
   apart (the queries see word-piece positions).
2. Context: instruction tokens + object slots + start-fact slots + now-fact slots, each kind
   marked by a segment embedding, run through ``context_layers`` transformer layers (once
   per step). Facts and objects carry no order, so their order does not matter.
3. Each candidate's slots run through ``candidate_layers`` layers of self-attention among
   its own slots, cross-attention to the context and an MLP; the mean of its slots gives
   one logit. A softmax over the candidates is the Say distribution (listwise, as trained).

Shapes: ``instruction`` (B, Ti, 384) with mask (B, Ti); ``phrases`` (P, Tp, 384) with mask
(P, Tp), the token states of every object, fact and skill text of the batch; ``objects``,
``facts``, ``now`` and ``candidates`` (B, N) long indices into ``phrases`` (-1: padding).
The output is (B, C) logits, ``-inf`` at padded candidates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

INSTRUCTION, OBJECT, FACT, NOW, CANDIDATE = range(5)


@dataclass
class SayConfig:
    """Sizes of the Say head (saved as ``config.json`` with the weights)."""

    encoder: str = "all-MiniLM-L6-v2"
    encoder_dim: int = 384
    width: int = 192
    heads: int = 4
    context_layers: int = 2
    candidate_layers: int = 2
    slots: int = 3  # pooled vectors per fact and per skill (an object name gets one)
    max_tokens: int = 64  # word-piece positions
    dropout: float = 0.0  # CPU dropout costs a fifth of a training step; word dropout instead

    def to_dict(self) -> dict:
        return asdict(self)


class SlotPool(nn.Module):
    """Attention pooling of a text's tokens into ``count`` slots per kind of text."""

    def __init__(self, cfg: SayConfig, counts: dict[int, int]) -> None:
        super().__init__()
        d = cfg.width
        self.queries = nn.ParameterDict(
            {str(kind): nn.Parameter(torch.randn(n, d) * 0.02) for kind, n in counts.items()}
        )
        self.attn = nn.MultiheadAttention(d, cfg.heads, dropout=cfg.dropout, batch_first=True)
        self.norm = nn.LayerNorm(d)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor, kind: int) -> torch.Tensor:
        """(P, Tp, d) tokens, (P, Tp) valid mask -> (P, count, d) slots."""
        queries = self.queries[str(kind)].expand(tokens.shape[0], -1, -1)
        pooled, _ = self.attn(queries, tokens, tokens, key_padding_mask=~mask, need_weights=False)
        return self.norm(queries + pooled)


class CandidateLayer(nn.Module):
    """Pre-norm: self-attention among one candidate's slots, cross-attention to the context,
    MLP."""

    def __init__(self, cfg: SayConfig) -> None:
        super().__init__()
        d, h, p = cfg.width, cfg.heads, cfg.dropout
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(3))
        self.self_attn = nn.MultiheadAttention(d, h, dropout=p, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(d, h, dropout=p, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Dropout(p), nn.Linear(4 * d, d))
        self.drop = nn.Dropout(p)

    def forward(self, x: torch.Tensor, context: torch.Tensor, context_pad: torch.Tensor):
        """x: (B, C, S, d) candidate slots; context: (B, L, d); context_pad: (B, L) True=pad."""
        b, c, s, d = x.shape
        flat = self.norms[0](x).reshape(b * c, s, d)
        x = x + self.drop(self.self_attn(flat, flat, flat, need_weights=False)[0]).view(b, c, s, d)
        q = self.norms[1](x).reshape(b, c * s, d)
        attended = self.cross_attn(q, context, context, key_padding_mask=context_pad)[0]
        x = x + self.drop(attended).view(b, c, s, d)
        return x + self.drop(self.mlp(self.norms[2](x)))


class SayHead(nn.Module):
    """Logits over candidate skills (see the module docstring)."""

    def __init__(self, cfg: SayConfig) -> None:
        super().__init__()
        d = cfg.width
        self.cfg = cfg
        self.project = nn.Sequential(nn.Linear(cfg.encoder_dim, d), nn.LayerNorm(d))
        self.position = nn.Embedding(cfg.max_tokens, d)
        self.segment = nn.Embedding(5, d)
        slots = {OBJECT: 1, FACT: cfg.slots, CANDIDATE: cfg.slots}
        self.pool = SlotPool(cfg, slots)
        layer = nn.TransformerEncoderLayer(
            d, cfg.heads, 4 * d, cfg.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.context = nn.TransformerEncoder(layer, cfg.context_layers, enable_nested_tensor=False)
        self.candidate = nn.ModuleList(CandidateLayer(cfg) for _ in range(cfg.candidate_layers))
        self.out = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.GELU(), nn.Linear(d, 1))

    def tokens(self, states: torch.Tensor) -> torch.Tensor:
        """(N, T, 384) MiniLM states -> (N, T, d) with word-piece positions."""
        positions = torch.arange(states.shape[1], device=states.device)
        return self.project(states) + self.position(positions)

    def pooled(self, phrases: torch.Tensor, mask: torch.Tensor) -> dict[int, torch.Tensor]:
        """Slots of every phrase for each kind that uses them: {kind: (P, slots, d)}."""
        tokens = self.tokens(phrases)
        return {kind: self.pool(tokens, mask, kind) for kind in (OBJECT, FACT, CANDIDATE)}

    def encode_context(
        self, instruction, instruction_mask, slots, objects, facts, now
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(context (B, L, d), padding mask (B, L) True where padded)."""
        parts = [self.tokens(instruction) + self.segment.weight[INSTRUCTION]]
        valid = [instruction_mask]
        for index, kind, segment in ((objects, OBJECT, OBJECT), (facts, FACT, FACT)):
            parts.append(self._gather(slots[kind], index) + self.segment.weight[segment])
            valid.append(self._valid(index, slots[kind].shape[1]))
        parts.append(self._gather(slots[FACT], now) + self.segment.weight[NOW])
        valid.append(self._valid(now, slots[FACT].shape[1]))
        context = torch.cat(parts, dim=1)
        pad = ~torch.cat(valid, dim=1)
        return self.context(context, src_key_padding_mask=pad), pad

    def score(self, context, pad, slots, candidates) -> torch.Tensor:
        """(B, C) logits of the candidates given an encoded context."""
        b, c = candidates.shape
        x = slots[CANDIDATE][candidates.clamp(min=0)] + self.segment.weight[CANDIDATE]
        for layer in self.candidate:
            x = layer(x, context, pad)
        logits = self.out(x.mean(dim=2)).squeeze(-1)
        return logits.masked_fill(candidates < 0, float("-inf"))

    def forward(self, instruction, instruction_mask, phrases, phrase_mask, objects, facts, now,
                candidates) -> torch.Tensor:  # fmt: skip
        slots = self.pooled(phrases, phrase_mask)
        context, pad = self.encode_context(
            instruction, instruction_mask, slots, objects, facts, now
        )
        return self.score(context, pad, slots, candidates)

    @staticmethod
    def _gather(slots: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """(P, S, d) slots at (B, N) indices -> (B, N * S, d)."""
        b, n = index.shape
        return slots[index.clamp(min=0)].reshape(b, n * slots.shape[1], -1)

    @staticmethod
    def _valid(index: torch.Tensor, per: int) -> torch.Tensor:
        return (index >= 0).repeat_interleave(per, dim=1)
