"""RT-2 as a closed-loop policy: camera images + instruction in, 11 decoded action tokens out."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import numpy as np
import torch

from vla.checkpoint import load_checkpoint, save_checkpoint
from vla.policies.base import Policy, register_policy
from vla.policies.rt1.policy import CAMERA_NAMES, _untrained_stats
from vla.policies.rt2.model import RT2, RT2Config
from vla.tokenizer import ActionTokenizer, NormStats


@register_policy("rt2")
class RT2Policy(Policy):
    """An ``RT2`` model (eval mode) + action tokenizer; memoryless (current frame only).

    Args:
        config: model hyper-parameters; default ``RT2Config()`` (small, from scratch).
        norm_stats: action normalisation; default q01 = -1, q99 = 1 (untrained).
        device: torch device of the model.
        model: an already built ``RT2`` (e.g. from a checkpoint); default: build ``config``.
    """

    def __init__(
        self,
        config: RT2Config | None = None,
        norm_stats: NormStats | None = None,
        device: str = "cpu",
        model: RT2 | None = None,
    ) -> None:
        self.config = model.config if model is not None else config or RT2Config()
        self.norm_stats = norm_stats or _untrained_stats()
        self.device = torch.device(device)
        self.model = (model or RT2.build(self.config)).to(self.device).eval()
        self.tokenizer = ActionTokenizer(self.norm_stats, n_bins=self.config.n_bins)
        self.model_card = (
            "# RT-2 policy (vla-stack)\n\nA LLaVA-style VLM that answers with 11 action tokens, "
            f"{self.model.num_params():,} parameters. Untrained unless a training run "
            "replaced this card.\n"
        )

    @property
    def image_size(self) -> int:
        """Camera side (pixels) the policy was trained on."""
        return self.config.image_size

    def reset(self) -> None:
        """Nothing to forget: RT-2 conditions on the current frame only."""

    def _images(self, observation: dict[str, Any]) -> torch.Tensor:
        """(1, n_cameras, 3, H, W) uint8 from the observation's cameras."""
        frames = []
        for name in CAMERA_NAMES:
            image = np.asarray(observation["images"][name])
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(f"images[{name!r}] must be (H, W, 3) uint8, got {image.shape}")
            frames.append(torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1))
        return torch.stack(frames)[None]

    def select_action(self, observation: dict[str, Any]) -> np.ndarray:
        """Greedy constrained action for ``observation``: (11,) float32, mode in {0, 1, 2}."""
        ids = self.model.generate_action_ids(
            self._images(observation), [observation["instruction"]]
        )
        tokens = self.model.vocab.from_ids(ids)[0].numpy()
        return self.tokenizer.decode(tokens).astype(np.float32)

    def save_pretrained(self, directory: str | os.PathLike) -> pathlib.Path:
        """Write config.json (with the tokenizer and LLaVA config), model.safetensors,
        norm_stats.json and README.md atomically."""
        config = {"policy": self.policy_name, **self.model.checkpoint_fields()}
        config["camera_names"] = list(CAMERA_NAMES)
        return save_checkpoint(
            directory,
            model_state=self.model.state_dict(),
            config=config,
            norm_stats=self.norm_stats.to_dict(),
            model_card=self.model_card,
        )

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, device: str = "cpu") -> RT2Policy:
        """Load a folder written by ``save_pretrained`` or by ``vla-train policy=rt2``.

        Raises:
            ValueError: one line, for a missing/corrupt file or weights that do not match.
        """
        ckpt = load_checkpoint(directory)
        where = ckpt.path / "config.json"
        if ckpt.config.get("policy") != cls.policy_name:
            raise ValueError(f"{where} is for policy {ckpt.config.get('policy')!r}, not 'rt2'")
        try:
            model = RT2.from_checkpoint_fields(ckpt.config)
            norm_stats = NormStats.from_dict(ckpt.norm_stats)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{where} or norm_stats.json is invalid: {err}") from None
        try:
            model.load_state_dict(ckpt.model_state, strict=True)
        except RuntimeError as err:
            lines = [ln.strip() for ln in str(err).splitlines()[1:] if ln.strip()]
            problem = (lines[0] if lines else str(err))[:300]
            raise ValueError(
                f"checkpoint {ckpt.path} does not match its config.json: {problem}"
            ) from None
        policy = cls(norm_stats=norm_stats, device=device, model=model)
        if ckpt.model_card:
            policy.model_card = ckpt.model_card
        return policy
