"""MiniLM's state of a word, and of substitutes read in its place against its own context.

Word grounding (:mod:`vla.planning.grounding`) compares an unseen word's contextual state with
the states of its candidate replacements in the same place. Rewriting the sentence once per
candidate and running it all through MiniLM costs a whole sentence of arithmetic per
candidate, when only the candidate's own word pieces differ. Here the sentence runs once,
with the unseen word in it; then every candidate's word pieces, all in one short batch, run
through the same layers, attending at each layer to the context's keys and values from that
one pass and to the candidate's own pieces. The candidates are read in the unseen word's
context, as a reader who meets the word there would read them: the context is not re-read
around each candidate.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vla.language import SentenceEncoder


@torch.no_grad()
def substitute_states(
    encoder: SentenceEncoder,
    left: list[str],
    word: str,
    right: list[str],
    substitutes: list[str],
    layers: int,
    bf16: bool = False,
) -> torch.Tensor:
    """The states after ``layers`` of MiniLM's layers (each the mean over its word pieces),
    L2-normalised, (1 + len(substitutes), dim): first ``word``'s between the word pieces
    ``left`` and ``right``; then each substitute's, read in ``word``'s place against the
    context's states from ``word``'s pass (bf16 arithmetic with ``bf16``: the layers of
    :meth:`vla.language.SentenceEncoder.first_layers` under autocast)."""
    if not substitutes:
        raise ValueError("substitute_states needs at least one substitute")
    model = encoder.first_layers(layers, bf16)
    batch = encoder.tokenizer([[*left, word, *right]], is_split_into_words=True)
    pieces = [k for k, w in enumerate(batch.word_ids(0)) if w == len(left)]
    context = [k for k in range(len(batch.word_ids(0))) if k not in pieces]
    ids = encoder.tokenizer(substitutes, add_special_tokens=False)["input_ids"]
    owner = torch.cat([torch.full((len(p),), i) for i, p in enumerate(ids)])
    positions = [pieces[0] + k for p in ids for k in range(len(p))]
    sees = torch.cat(  # each piece sees the whole context and its own word's pieces
        [torch.ones(len(owner), len(context), dtype=torch.bool), owner[:, None] == owner[None]], 1
    ).to(encoder.device)
    device = lambda values: torch.tensor(values, device=encoder.device)[None]  # noqa: E731
    with torch.autocast(encoder.device.type, dtype=torch.bfloat16, enabled=bf16):
        h = model.embeddings(input_ids=device(batch["input_ids"][0]))
        x = model.embeddings(input_ids=device(sum(ids, [])), position_ids=device(positions))
        for layer in model.encoder.layer:
            x = _read_against(layer, x, h[:, context], sees)
            h = layer(h)  # one text, no padding: no attention mask
    x, h = x.float(), h.float()
    mean = torch.zeros(len(ids), x.shape[-1], device=x.device).index_add_(0, owner, x[0])
    mean = mean / torch.tensor([len(p) for p in ids], device=x.device)[:, None]
    word_state = h[0, pieces].mean(dim=0, keepdim=True)
    return F.normalize(torch.cat([word_state, mean]), dim=-1)


def _read_against(
    layer: torch.nn.Module, x: torch.Tensor, context: torch.Tensor, sees: torch.Tensor
) -> torch.Tensor:
    """One BERT layer over the rows ``x`` (1, R, dim), whose attention reads the ``context``
    rows (1, S, dim) and ``x`` itself where ``sees`` (R, S + R) allows."""
    attention = layer.attention.self
    heads = attention.num_attention_heads
    split = lambda t: t.view(1, t.shape[1], heads, -1).transpose(1, 2)  # noqa: E731
    both = torch.cat([context, x], dim=1)
    read = F.scaled_dot_product_attention(
        split(attention.query(x)), split(attention.key(both)), split(attention.value(both)), sees
    )
    read = layer.attention.output(read.transpose(1, 2).reshape(x.shape), x)
    return layer.output(layer.intermediate(read), read)
