"""The trainer interface of ``vla-train`` and the registry of trainable policies.

A trainer is the policy-specific half of training (:mod:`vla.training.loop` is the shared
half): a class built as ``Trainer(cfg, store, (train_ids, val_ids), norm, device)`` with

- ``model``: the ``nn.Module`` to optimise;
- ``train_set`` (items keyed by ``(index, aug_seed)``), ``val_set`` and ``collate``;
- ``checkpoint_config``: the checkpoint's config.json (``{"policy": <name>, ...}``);
- ``loss(batch, model) -> (loss, accuracy per action dimension (11,), batch size)``;
- ``model_card(cfg, step, val_loss) -> str``;

and optionally, when a checkpoint should not be the whole ``model.state_dict()`` (RT-2 LoRA
keeps only its adapters):

- ``export() -> dict``: the model arguments of ``vla.checkpoint.save_checkpoint``
  (``model_state``, ``config``, ``extra_files``) written at every checkpoint;
- ``load_weights(state)``: the ``model_state`` of such a checkpoint back into ``model``
  (``resume``, ``init_from``).

A policy's trainer registers itself with ``@register_trainer("<policy name>")``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sim.registry import Registry

TRAINERS: Registry[type] = Registry("trainable policy")
T = TypeVar("T", bound=type)


def register_trainer(name: str) -> Callable[[T], T]:
    """Class decorator: ``vla-train policy=<name>`` trains with this class."""
    return TRAINERS.register(name)
