"""vla-train's RT-1 side: model, datasets and loss (see :mod:`vla.training.loop`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from vla.data.episode_store import EpisodeStore
from vla.data.frame_cache import FrameCache
from vla.data.torch_dataset import collate
from vla.language import DEFAULT_ENCODER
from vla.policies.rt1.goals import GOAL_SCALE
from vla.policies.rt1.model import RT1, RT1Config
from vla.policies.rt1.scene_cotrain import CachedWithScenes, load_scenes
from vla.tokenizer import ActionTokenizer, NormStats
from vla.training.cached_batches import CachedBatches
from vla.training.data import embed_instructions, embed_texts, to_model_inputs
from vla.training.trainer import register_trainer


@register_trainer("rt1")
class RT1Trainer:
    """Behaviour cloning of ``RT1``: frame history + MiniLM instruction + state -> 11 tokens.

    Attributes read by the training loop: ``model``, ``train_set`` (items keyed by
    ``(index, aug_seed)``), ``val_set``, ``collate``, ``checkpoint_config``.
    """

    collate = staticmethod(collate)

    def __init__(
        self,
        cfg: Any,
        store: EpisodeStore,
        split: tuple[list[int], list[int]],
        norm: NormStats,
        device: torch.device,
    ) -> None:
        self.config = RT1Config.from_dict(
            {
                "image_size": cfg.image_size,
                "history": cfg.history,
                "n_cameras": len(store.cameras),
                "state_dim": store.state_dim,
                **cfg.model.for_policy("rt1"),  # options left at None: RT1Config default
            }
        )
        # every step decoded once into a memory-mapped cache; batches gathered whole
        frames = FrameCache.build(store, (cfg.image_size, cfg.image_size))
        chunk = self.config.chunk
        self.train_set: Any = CachedBatches(frames, split[0], cfg.history, chunk, augment=True)
        self.val_set: Any = CachedBatches(frames, split[1], cfg.history, chunk, augment=False)
        self.tokenizer = ActionTokenizer(norm, n_bins=self.config.n_bins)
        self.text = embed_instructions(store, device)
        if cfg.scene_folders:
            self._add_scenes(cfg.scene_folders, cfg, store, device)
        self.device = device
        self.model: nn.Module = RT1(self.config).to(device)
        self.checkpoint_config = {
            "policy": "rt1",
            "model": self.config.to_dict(),
            "language_model": DEFAULT_ENCODER,
            "camera_names": list(store.cameras),
        }

    def _add_scenes(self, folders: list[str], cfg: Any, store: EpisodeStore, device) -> None:
        """Pair every training item with a localisation scene for the goal head."""
        if not self.config.goal_head:
            raise ValueError("scenes= trains the goal head: add model.goal_head=true")
        scenes = load_scenes(folders, cfg.image_size, store.cameras)
        self.train_set = CachedWithScenes(self.train_set, scenes, store.cameras)
        self.text.update(embed_texts(sorted(set(scenes.instruction.tolist())), device))

    def loss(
        self, batch: dict[str, Any], model: nn.Module
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """(mean loss, per-dimension token accuracy (11,), batch size) of one batch.

        With ``goal_head`` the loss adds the goal head's smooth-L1 error (decimetres) on the
        steps that have a goal (:mod:`vla.policies.rt1.goals`).
        """
        images, text_emb, state, tokens = to_model_inputs(
            batch, self.text, self.tokenizer, self.device
        )
        state = state if self.config.state_dim else None
        out = model(images, text_emb, state, return_goal=self.config.goal_head)
        logits, goal = out if self.config.goal_head else (out, None)
        accuracy = RT1.token_accuracy(logits.detach(), tokens).cpu()
        loss = RT1.loss(logits, tokens)
        if goal is not None:
            loss = loss + goal_loss(goal, batch["goal"], batch["goal_valid"], self.device)
        if "scene_images" in batch:
            loss = loss + self.scene_loss(batch, model)
        return loss, accuracy, tokens.shape[0]

    def scene_loss(self, batch: dict[str, Any], model: nn.Module) -> torch.Tensor:
        """The goal head's error on the batch's localisation scenes (no action loss)."""
        text = torch.stack([self.text[s] for s in batch["scene_instruction"]])
        state = batch["scene_state"].to(self.device) if self.config.state_dim else None
        images = batch["scene_images"].to(self.device)
        _, goal = model(images, text, state, return_goal=True)
        valid = torch.ones(len(goal), dtype=torch.bool)
        return goal_loss(goal, batch["scene_goal"], valid, self.device)

    def model_card(self, cfg: Any, step: int, val_loss: float | None) -> str:
        """A short human-readable description stored with every checkpoint."""
        c, val = self.config, "n/a" if val_loss is None else f"{val_loss:.4f}"
        return (
            f"# RT-1 policy\n\nBehaviour cloning on `{cfg.data}` for {step} steps "
            f"(batch {cfg.batch_size}, lr {cfg.lr}, seed {cfg.seed}); "
            f"{self.model.num_params():,} parameters; validation loss {val}.\n\nInputs: "
            f"{c.history} frames of the cameras front and wrist at {c.image_size}px, a MiniLM "
            f"instruction embedding and the {c.state_dim}-d robot state. Output: 11 action "
            "tokens (256 bins, mode 3).\n"
        )


def goal_loss(
    predicted: torch.Tensor, offsets: torch.Tensor, valid: torch.Tensor, device: torch.device
) -> torch.Tensor:
    """Smooth-L1 between the goal head (dm) and the recorded offsets (m), valid rows only;
    zero (with a gradient path) when no row of the batch has a goal."""
    valid = valid.to(device)
    if not bool(valid.any()):
        return predicted.sum() * 0.0
    target = offsets.to(device)[valid] * GOAL_SCALE
    return F.smooth_l1_loss(predicted[valid], target)
