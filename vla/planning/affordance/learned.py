"""LearnedAffordance: the trained :class:`AffordanceNet` behind the planner's "Can" interface.

``affordance(observation, skill) -> float in [0, 1]`` (sigmoid of the net's logit), plus
``batch(observation, skills)`` which embeds the skills (cached) and runs the image encoder
once for all of them. Registered as ``make_affordance("learned", checkpoint=...)``;
``checkpoint=None`` loads the bundled ``vla/assets/affordance``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from planners.affordance import register_affordance
from vla.checkpoint import BUNDLED_DIR, load_checkpoint, save_checkpoint
from vla.language import DEFAULT_ENCODER, SentenceEncoder
from vla.planning.affordance.model import CAMERAS, AffordanceNet, AffordanceNetConfig

BUNDLED_CHECKPOINT = BUNDLED_DIR / "affordance"
KIND = "learned_affordance"  # config.json "kind": tells an affordance from a policy checkpoint


class LearnedAffordance:
    """A value function over (current camera images, skill text).

    Args:
        model: the network (put in eval mode here).
        encoder: the frozen sentence encoder whose embeddings the model was trained on.
        model_card: the checkpoint's README text, kept for :meth:`save_pretrained`.
    """

    def __init__(self, model: AffordanceNet, encoder: SentenceEncoder, model_card: str = ""):
        self.model = model.eval()
        self.encoder = encoder
        self.model_card = model_card

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> LearnedAffordance:
        """Load a checkpoint folder; one-line ValueError if missing, corrupt or not ours."""
        ckpt = load_checkpoint(directory)
        if ckpt.config.get("kind") != KIND:
            raise ValueError(f"{directory} is not a learned-affordance checkpoint (no kind={KIND})")
        model = AffordanceNet(AffordanceNetConfig.from_dict(ckpt.config.get("model", {})))
        try:
            model.load_state_dict(ckpt.model_state)
        except RuntimeError:
            raise ValueError(f"{directory}: weights do not fit the model config") from None
        encoder = SentenceEncoder(ckpt.config.get("encoder", DEFAULT_ENCODER))
        return cls(model, encoder, ckpt.model_card)

    def save_pretrained(self, directory: str | os.PathLike, model_card: str | None = None) -> Path:
        """Write an atomic checkpoint folder (config.json, model.safetensors, README.md)."""
        config = {
            "kind": KIND,
            "model": self.model.cfg.to_dict(),
            "encoder": self.encoder.name_or_path,
        }
        return save_checkpoint(
            directory,
            model_state=self.model.state_dict(),
            config=config,
            norm_stats={},  # images are scaled inside the model; nothing to normalise
            model_card=self.model_card if model_card is None else model_card,
        )

    def __call__(self, observation: dict, skill: str) -> float:
        """Probability that ``skill`` succeeds if run now, from ``observation["images"]``."""
        return self.batch(observation, [skill])[0]

    @torch.no_grad()
    def batch(self, observation: dict, skills: list[str]) -> list[float]:
        """:meth:`__call__` for every skill, with one image-encoder pass."""
        if isinstance(skills, str):
            raise TypeError("LearnedAffordance.batch expects a list of skill strings")
        if not skills:
            return []
        front, wrist = (self._image(observation, cam) for cam in CAMERAS)
        logits = self.model.score_skills(front, wrist, self.encoder.encode(list(skills)))
        return torch.sigmoid(logits).tolist()

    def _image(self, observation: Any, camera: str) -> torch.Tensor:
        size = self.model.cfg.image_size
        try:
            image = np.asarray(observation["images"][camera])
        except (TypeError, KeyError):
            raise ValueError(
                f"the learned affordance needs observation['images'][{camera!r}]"
            ) from None
        if image.shape != (size, size, 3) or image.dtype != np.uint8:
            raise ValueError(
                f"observation image {camera!r} must be uint8 {size}x{size}x3, "
                f"got {image.dtype} {image.shape}"
            )
        return torch.from_numpy(np.ascontiguousarray(image))


@register_affordance("learned")
def learned_affordance(env: Any = None, checkpoint: str | None = None) -> LearnedAffordance:
    """Factory for ``make_affordance("learned", checkpoint=...)``; None: the bundled one."""
    path = Path(checkpoint).expanduser() if checkpoint else BUNDLED_CHECKPOINT
    if not path.is_dir():
        hint = "train one with vla-train-affordance" if checkpoint else "reinstall the package"
        raise ValueError(f"affordance checkpoint {path} does not exist: {hint}")
    return LearnedAffordance.from_pretrained(path)
