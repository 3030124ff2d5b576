"""RT-2's token sequences: prompt, answer and parallel-decoding slots, with their own masks.

One row of a batch is laid out in three blocks of columns::

    [pad ... prompt (P columns, left-padded)] [answer (A, right-padded)] [slots (S)]

* **prompt**: what the processor made of the chat-template text and the camera images.
* **answer**: the 11 action tokens (or a co-training text answer), predicted one after
  another (autoregressive decoding, next-token loss).
* **slots**: ``S = 11`` copies of the ``<act_slot>`` token for **parallel decoding**
  (OpenVLA-OFT): slot ``k`` sits at the position action token ``k`` would take, attends to
  the whole prompt and to every slot (bidirectional), never to the answer block, and its
  output predicts action token ``k``; all 11 tokens come out of one forward pass.

The 4D boolean mask (B, 1, T, T) says which key each query attends to (True = attend); it
is handed to the model as ``attention_mask`` (sdpa attention takes it as it is). The
prompt is causal, or bidirectional for a prefix-LM family (PaliGemma). Position ids are the
row's own count of real tokens (left padding does not shift them), or the model's 3D
rotary positions (Qwen2-VL) for the prompt with the answer and slots continuing after them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

IGNORE = -100  # label of tokens without loss


@dataclass
class Sequences:
    """A batch of rows laid out as in the module docstring.

    Attributes:
        input_ids: (B, T) ids, T = n_prompt + n_answer + n_slots.
        valid: (B, T) bool, False on padding.
        positions: (B, T), or (3, B, T) for 3D rotary positions.
        labels: (B, n_answer) answer ids, IGNORE on padding.
        slot_labels: (B, n_slots) the action ids the slots predict, IGNORE on rows whose
            answer is not an action (co-training text).
        n_prompt, n_slots: block widths (n_answer = labels.shape[1]).
        prefix_lm: the prompt block attends bidirectionally.
    """

    input_ids: torch.Tensor
    valid: torch.Tensor
    positions: torch.Tensor
    labels: torch.Tensor
    slot_labels: torch.Tensor
    n_prompt: int
    n_slots: int
    prefix_lm: bool = False

    @property
    def n_answer(self) -> int:
        return self.labels.shape[1]

    def attention_mask(self) -> torch.Tensor:
        """(B, 1, T, T) bool: query row i may attend to key column j."""
        return attention_mask(self.valid, self.n_prompt, self.n_slots, self.prefix_lm)

    def to(self, device: torch.device) -> Sequences:
        tensors = ("input_ids", "valid", "positions", "labels", "slot_labels")
        moved = {k: getattr(self, k).to(device) for k in tensors}
        return Sequences(**moved, n_prompt=self.n_prompt, n_slots=self.n_slots,
                         prefix_lm=self.prefix_lm)  # fmt: skip


def attention_mask(
    valid: torch.Tensor, n_prompt: int, n_slots: int, prefix_lm: bool
) -> torch.Tensor:
    """The (B, 1, T, T) bool mask of a ``Sequences`` layout; every query also sees itself so
    that padding rows stay finite (nothing real attends to them)."""
    width = valid.shape[1]
    index = torch.arange(width, device=valid.device)
    allowed = index[None, :] <= index[:, None]  # causal
    if prefix_lm:
        allowed[:n_prompt, :n_prompt] = True
    if n_slots:
        first = width - n_slots
        allowed[first:] = False
        allowed[first:, :n_prompt] = True
        allowed[first:, first:] = True
    mask = allowed[None] & valid[:, None, :]
    mask |= torch.eye(width, dtype=torch.bool, device=valid.device)
    return mask[:, None]


def next_positions(positions: torch.Tensor) -> torch.Tensor:
    """(B,) the position after each row's last real token: one more than its largest."""
    flat = positions.reshape(-1, *positions.shape[-2:])  # (1 or 3, B, T)
    return flat.amax(dim=(0, 2)) + 1


def continue_positions(positions: torch.Tensor, start: torch.Tensor, n: int) -> torch.Tensor:
    """Positions of ``n`` text tokens from ``start`` (B,): (B, n), or (3, B, n) as ``positions``."""
    new = start[:, None] + torch.arange(n, device=start.device)
    return new.expand(3, -1, -1) if positions.dim() == 3 else new


def extend(
    prompt_ids: torch.Tensor,
    prompt_valid: torch.Tensor,
    prompt_positions: torch.Tensor,
    answers: list[list[int]],
    n_slots: int,
    slot_id: int,
    pad_id: int,
    prefix_lm: bool = False,
    action_rows: list[bool] | None = None,
) -> Sequences:
    """Append right-padded ``answers`` and ``n_slots`` slot tokens to left-padded prompts;
    ``action_rows`` (default: all) marks the rows whose answer the slots learn."""
    batch = prompt_ids.shape[0]
    width = max((len(a) for a in answers), default=0)
    answer_ids = torch.full((batch, width), pad_id, dtype=torch.long)
    labels = torch.full((batch, width), IGNORE, dtype=torch.long)
    for row, answer in enumerate(answers):
        answer_ids[row, : len(answer)] = torch.tensor(answer, dtype=torch.long)
        labels[row, : len(answer)] = torch.tensor(answer, dtype=torch.long)
    slots = torch.full((batch, n_slots), slot_id, dtype=torch.long)
    rows = torch.tensor([True] * batch if action_rows is None else action_rows)
    slot_labels = torch.full((batch, n_slots), IGNORE, dtype=torch.long)
    if n_slots and width >= n_slots:  # training rows (inference has no answers)
        slot_labels = torch.where(rows[:, None], labels[:, :n_slots], IGNORE)
    start = next_positions(prompt_positions)
    positions = [prompt_positions, continue_positions(prompt_positions, start, width)]
    positions.append(continue_positions(prompt_positions, start, n_slots))
    return Sequences(
        input_ids=torch.cat([prompt_ids, answer_ids, slots], dim=1),
        valid=torch.cat([prompt_valid.bool(), labels != IGNORE, slots == slot_id], dim=1),
        positions=torch.cat(positions, dim=-1),
        labels=labels,
        slot_labels=slot_labels,
        n_prompt=prompt_ids.shape[1],
        n_slots=n_slots,
        prefix_lm=prefix_lm,
    )
