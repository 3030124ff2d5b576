"""AffordanceNet: camera images + skill embedding -> logit of "the skill succeeds if run now".

SayCan's value function, scaled down. A small conv encoder (shared by both cameras) turns
the front and wrist 64x64 images of the *current* frame into one image feature; the frozen
MiniLM embedding of the skill text (384-d) is projected to the same width; a late-fusion
head reads ``[image, skill, image * skill]`` (the product lets a skill pick out the image
features it needs) and emits one logit.

Why late fusion and not FiLM inside the CNN: the planner scores every candidate skill of
the scene (~10-50) at each step from one observation. Here the CNN runs once per
observation and only the tiny head runs per skill (:meth:`AffordanceNet.score_skills`);
FiLM would re-run the CNN per skill.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from sim.contract import CAMERA_NAMES as CAMERAS


@dataclass(frozen=True)
class AffordanceNetConfig:
    """Architecture of :class:`AffordanceNet` (stored in the checkpoint's config.json)."""

    image_size: int = 64  # square camera images, pixels
    text_dim: int = 384  # skill embedding width (MiniLM-L6)
    channels: tuple[int, ...] = (32, 48, 64)  # conv stages: patchify stem (stride 4), 2x down
    width: int = 128  # image feature, skill feature and fusion width
    dropout: float = 0.1

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, data: dict) -> AffordanceNetConfig:
        """Inverse of :meth:`to_dict`; unknown keys are a ValueError."""
        try:
            return cls(**{**data, "channels": tuple(data.get("channels", cls.channels))})
        except TypeError as error:
            raise ValueError(f"bad affordance model config: {error}") from None


class ImageEncoder(nn.Module):
    """(B, 3, H, W) uint8 -> (B, width): patchify stem, stride-2 convs, flatten, linear.

    Flattening the last (4x4) map instead of pooling keeps *where* things are, which is
    what decides whether a block can be reached or is already in a bowl.
    """

    def __init__(self, cfg: AffordanceNetConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for i, c_out in enumerate(cfg.channels):
            kernel, stride, pad = (4, 4, 0) if i == 0 else (3, 2, 1)
            layers += [nn.Conv2d(c_in, c_out, kernel, stride, pad), nn.GroupNorm(8, c_out)]
            layers.append(nn.ReLU())
            c_in = c_out
        self.convs = nn.Sequential(*layers)
        side = cfg.image_size // (4 * 2 ** (len(cfg.channels) - 1))
        self.proj = nn.Linear(c_in * side * side, cfg.width)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Pixels map from [0, 255] to [-1, 1] here; callers pass uint8."""
        if images.dtype != torch.uint8:
            raise TypeError(f"AffordanceNet expects uint8 images, got {images.dtype}")
        x = self.convs(images.float().mul_(1.0 / 127.5).sub_(1.0))
        return self.proj(x.flatten(1))


class AffordanceNet(nn.Module):
    """front + wrist images (B, H, W, 3) uint8 and skill embeddings -> success logits."""

    def __init__(self, cfg: AffordanceNetConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or AffordanceNetConfig()
        w = self.cfg.width
        self.encoder = ImageEncoder(self.cfg)
        self.camera_mix = nn.Linear(len(CAMERAS) * w, w)
        self.skill_proj = nn.Linear(self.cfg.text_dim, w)
        self.head = nn.Sequential(
            nn.Linear(3 * w, w), nn.ReLU(), nn.Dropout(self.cfg.dropout), nn.Linear(w, 1)
        )

    def image_features(self, front: torch.Tensor, wrist: torch.Tensor) -> torch.Tensor:
        """(B, H, W, 3) uint8 each -> (B, width): run once per observation."""
        batch = front.shape[0]
        images = torch.cat([front, wrist]).permute(0, 3, 1, 2)  # both cameras in one pass
        feats = self.encoder(images)
        return F.relu(self.camera_mix(torch.cat([feats[:batch], feats[batch:]], dim=1)))

    def fuse(self, image: torch.Tensor, skill: torch.Tensor) -> torch.Tensor:
        """image (B, width) features, skill (B, text_dim) embeddings -> (B,) logits."""
        text = F.relu(self.skill_proj(skill))
        return self.head(torch.cat([image, text, image * text], dim=1)).squeeze(1)

    def forward(self, front: torch.Tensor, wrist: torch.Tensor, skill: torch.Tensor):
        """One skill per observation: (B, H, W, 3) x2 uint8, (B, text_dim) -> (B,) logits."""
        return self.fuse(self.image_features(front, wrist), skill)

    def score_skills(self, front: torch.Tensor, wrist: torch.Tensor, skills: torch.Tensor):
        """One observation, K skills: (H, W, 3) x2 uint8, (K, text_dim) -> (K,) logits."""
        image = self.image_features(front[None], wrist[None])
        return self.fuse(image.expand(skills.shape[0], -1), skills)
