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

Opt-in (:class:`SayConfig`): ``fact_tokens`` and ``candidate_tokens`` keep facts and skills
word piece by word piece instead of pooling them; ``match_features`` (with
``candidate_tokens``) adds to each skill word piece its best cosine match among the word
pieces of the instruction, the start facts and the facts now. The bundled head uses none.

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
    fact_tokens: bool = False  # facts enter the context word piece by word piece, not pooled
    candidate_tokens: bool = False  # skills are scored word piece by word piece, not pooled
    match_features: bool = False  # (with candidate_tokens) each skill word piece gets its best
    # cosine match among the instruction's, the start facts' and the current facts' pieces
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

    def forward(self, x, valid, context: torch.Tensor, context_pad: torch.Tensor):
        """x: (B, C, S, d) candidate slots or tokens, valid (B, C, S); context: (B, L, d);
        context_pad: (B, L) True where padded."""
        b, c, s, d = x.shape
        flat = self.norms[0](x).reshape(b * c, s, d)
        pad = ~valid.reshape(b * c, s)
        own = self.self_attn(flat, flat, flat, key_padding_mask=pad, need_weights=False)[0]
        x = x + self.drop(own).view(b, c, s, d)
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
        if cfg.match_features and not cfg.candidate_tokens:
            raise ValueError("match_features needs candidate_tokens (it scores word pieces)")
        self.match_embed = nn.Linear(3, d) if cfg.match_features else None

    def tokens(self, states: torch.Tensor) -> torch.Tensor:
        """(N, T, 384) MiniLM states -> (N, T, d) with word-piece positions."""
        positions = torch.arange(states.shape[1], device=states.device)
        return self.project(states) + self.position(positions)

    def pooled(self, phrases: torch.Tensor, mask: torch.Tensor) -> dict[int, tuple]:
        """Every phrase as each kind of text: {kind: ((P, S, d) vectors, (P, S) valid)}, where
        the vectors are pooled slots, or the word pieces themselves for the kinds the config
        keeps whole."""
        tokens = self.tokens(phrases)
        whole = {FACT: self.cfg.fact_tokens, CANDIDATE: self.cfg.candidate_tokens}
        out = {}
        for kind in (OBJECT, FACT, CANDIDATE):
            if whole.get(kind):
                out[kind] = (tokens, mask)
            else:
                slots = self.pool(tokens, mask, kind)
                out[kind] = (slots, torch.ones(slots.shape[:2], dtype=torch.bool))
        return out

    def encode_context(
        self, instruction, instruction_mask, slots, objects, facts, now
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(context (B, L, d), padding mask (B, L) True where padded)."""
        parts = [self.tokens(instruction) + self.segment.weight[INSTRUCTION]]
        valid = [instruction_mask]
        for index, kind, segment in (
            (objects, OBJECT, OBJECT),
            (facts, FACT, FACT),
            (now, FACT, NOW),
        ):
            vectors, ok = self._gather(*slots[kind], index)
            parts.append(vectors + self.segment.weight[segment])
            valid.append(ok)
        context = torch.cat(parts, dim=1)
        pad = ~torch.cat(valid, dim=1)
        return self.context(context, src_key_padding_mask=pad), pad

    def matches(self, instruction, instruction_mask, phrases, phrase_mask, facts, now, candidates):
        """(B, C, Tp, 3): for each skill word piece, its best cosine similarity (raw MiniLM
        states) with a word piece of the instruction, of the start facts, of the facts now."""
        raw = nn.functional.normalize(phrases, dim=-1)
        skills = raw[candidates.clamp(min=0)]  # (B, C, Tp, 384)

        def best(keys: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
            if keys.shape[1] == 0:  # no facts in the whole batch
                return skills.new_full(skills.shape[:3], -1.0)
            sim = torch.einsum("bctd,bld->bctl", skills, keys)
            return sim.masked_fill(~valid[:, None, None, :], -1.0).amax(dim=-1)

        columns = [best(nn.functional.normalize(instruction, dim=-1), instruction_mask)]
        for index in (facts, now):
            b = index.shape[0]
            keys = raw[index.clamp(min=0)].reshape(b, -1, raw.shape[-1])
            valid = (phrase_mask[index.clamp(min=0)] & (index >= 0).unsqueeze(-1)).reshape(b, -1)
            columns.append(best(keys, valid))
        return torch.stack(columns, dim=-1)

    def score(self, context, pad, slots, candidates, matches=None) -> torch.Tensor:
        """(B, C) logits of the candidates given an encoded context (and, with
        ``match_features``, their :meth:`matches`)."""
        vectors, mask = slots[CANDIDATE]
        index = candidates.clamp(min=0)
        x, valid = vectors[index] + self.segment.weight[CANDIDATE], mask[index]
        if self.match_embed is not None:
            x = x + self.match_embed(matches)
        for layer in self.candidate:
            x = layer(x, valid, context, pad)
        weights = valid.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(dim=2) / weights.sum(dim=2).clamp(min=1)
        logits = self.out(pooled).squeeze(-1)
        return logits.masked_fill(candidates < 0, float("-inf"))

    def forward(self, instruction, instruction_mask, phrases, phrase_mask, objects, facts, now,
                candidates) -> torch.Tensor:  # fmt: skip
        slots = self.pooled(phrases, phrase_mask)
        context, pad = self.encode_context(
            instruction, instruction_mask, slots, objects, facts, now
        )
        matches = None
        if self.match_embed is not None:
            matches = self.matches(
                instruction, instruction_mask, phrases, phrase_mask, facts, now, candidates
            )
        return self.score(context, pad, slots, candidates, matches)

    @staticmethod
    def _gather(vectors: torch.Tensor, mask: torch.Tensor, index: torch.Tensor):
        """(P, S, d) vectors and (P, S) valid at (B, N) indices -> (B, N * S, d), (B, N * S)."""
        b, n = index.shape
        picked = vectors[index.clamp(min=0)].reshape(b, n * vectors.shape[1], vectors.shape[-1])
        ok = (mask[index.clamp(min=0)] & (index >= 0).unsqueeze(-1)).reshape(b, -1)
        return picked, ok
