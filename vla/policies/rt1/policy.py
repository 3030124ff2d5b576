"""RT-1 as a closed-loop policy: observation in, one de-tokenised 11-dim action out."""

from __future__ import annotations

import os
import pathlib
from collections import deque
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from sim.contract import CAMERA_NAMES
from vla.checkpoint import load_checkpoint, save_checkpoint
from vla.language import DEFAULT_ENCODER, SentenceEncoder
from vla.policies.base import Policy, register_policy
from vla.policies.rt1.goals import GOAL_SCALE
from vla.policies.rt1.model import RT1, RT1Config
from vla.policies.stall_toggle import StallToggle
from vla.tokenizer import N_CONTINUOUS, ActionTokenizer, NormStats


def _untrained_stats() -> NormStats:
    """Placeholder normalisation for an untrained policy: every dimension in [-1, 1]."""
    return NormStats(q01=-np.ones(N_CONTINUOUS), q99=np.ones(N_CONTINUOUS))


@register_policy("rt1")
class RT1Policy(Policy):
    """An ``RT1`` model (eval mode) + action tokenizer + frozen sentence encoder.

    Args:
        config: model hyper-parameters; default ``RT1Config()``.
        norm_stats: action normalisation; default q01 = -1, q99 = 1 (untrained).
        encoder: a loaded ``SentenceEncoder`` to share between policies; default: load
            ``language_model``.
        language_model: encoder name or folder, used when ``encoder`` is None.
        device: torch device of the model.
        stall_toggle_steps: flip the gripper after this many steps without arm translation
            (:mod:`vla.policies.stall_toggle`; 0, the default, is the policy alone). Saved in
            config.json.
        stall_goal_reach: with the rule on and a model with a goal head, a stall whose
            goal-head estimate is farther than this (m) homes towards it before the
            gripper flips (0, the default, turns this off). Saved in config.json.
    """

    def __init__(
        self,
        config: RT1Config | None = None,
        norm_stats: NormStats | None = None,
        encoder: SentenceEncoder | None = None,
        language_model: str = DEFAULT_ENCODER,
        device: str = "cpu",
        stall_toggle_steps: int = 0,
        stall_goal_reach: float = 0.0,
    ) -> None:
        self.config = config or RT1Config()
        self.stall_toggle = StallToggle(stall_toggle_steps, stall_goal_reach)
        if self.stall_toggle.needs_goal and not self.config.goal_head:
            raise ValueError("stall_goal_reach > 0 needs a model with a goal head (goal_head)")
        self.norm_stats = norm_stats or _untrained_stats()
        self.device = torch.device(device)
        self.encoder = encoder if encoder is not None else SentenceEncoder(language_model, device)
        if self.encoder.dim != self.config.text_dim:
            raise ValueError(
                f"sentence encoder {self.encoder.name_or_path!r} gives {self.encoder.dim}-dim "
                f"embeddings but RT1Config.text_dim is {self.config.text_dim}"
            )
        if self.config.n_cameras != len(CAMERA_NAMES):
            raise ValueError(f"RT1Policy needs n_cameras = {len(CAMERA_NAMES)} {CAMERA_NAMES}")
        self.model = RT1(self.config).to(self.device).eval()
        self.tokenizer = ActionTokenizer(self.norm_stats, n_bins=self.config.n_bins)
        self.model_card = (
            "# RT-1 policy (vla-stack)\n\n"
            f"RT-1 style transformer, {self.model.num_params():,} parameters, cameras "
            f"{list(CAMERA_NAMES)} at {self.config.image_size} px, {self.config.history} frames "
            f"of history, instructions embedded by {self.encoder.name_or_path}.\n"
            "Untrained unless a training run replaced this card.\n"
        )
        # Last `history` frames, oldest first: ((n_cameras, 3, S, S) uint8, (state_dim,) f32).
        self._frames: deque[tuple[torch.Tensor, torch.Tensor]] = deque(maxlen=self.config.history)

    @property
    def image_size(self) -> int:
        """Side (pixels) the model sees; larger or smaller camera images are resized to it."""
        return self.config.image_size

    def reset(self) -> None:
        """Clear the frame history (the next observation is repeated to fill it)."""
        self._frames.clear()
        self.stall_toggle.reset()

    def _camera(self, image: np.ndarray, name: str) -> torch.Tensor:
        """(H, W, 3) uint8 -> (3, S, S) uint8, bilinear-resized to image_size if needed."""
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"images[{name!r}] must be (H, W, 3) uint8, got {image.shape}")
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).to(self.device)
        size = self.config.image_size
        if x.shape[1:] != (size, size):
            x = F.interpolate(x[None].float(), size=(size, size), mode="bilinear", antialias=True)
            x = x[0].round().clamp(0, 255).to(torch.uint8)
        return x

    def select_action(self, observation: dict[str, Any]) -> np.ndarray:
        """Greedy action for ``observation``; returns (11,) float32 with mode in {0, 1, 2}."""
        images = torch.stack([self._camera(observation["images"][n], n) for n in CAMERA_NAMES])
        state = torch.as_tensor(np.asarray(observation["state"], np.float32), device=self.device)
        if not self._frames:  # episode start: pad the history with the first frame
            self._frames.extend([(images, state)] * self.config.history)
        else:
            self._frames.append((images, state))
        frames = torch.stack([f[0] for f in self._frames])[None]  # (1, T, N, 3, S, S)
        states = torch.stack([f[1] for f in self._frames])[None]  # (1, T, 10)
        text = self.encoder.encode([observation["instruction"]]).to(self.device)  # (1, 384)
        want_goal = self.stall_toggle.needs_goal
        with torch.inference_mode():
            out = self.model(frames, text, states if self.config.state_dim else None, want_goal)
        logits, goal = out if want_goal else (out, None)
        tokens = logits.argmax(dim=-1)[0].cpu().numpy()  # (11,) int64
        action = self.tokenizer.decode(tokens).astype(np.float32)
        if goal is not None:
            goal = goal[0].cpu().numpy() / GOAL_SCALE  # decimetres -> m
        return self.stall_toggle(action, goal)

    def save_pretrained(self, directory: str | os.PathLike) -> pathlib.Path:
        """Write config.json, model.safetensors, norm_stats.json and README.md atomically."""
        config = {
            "policy": self.policy_name,
            "model": self.config.to_dict(),
            "language_model": self.encoder.name_or_path,
            "camera_names": list(CAMERA_NAMES),
            "stall_toggle_steps": self.stall_toggle.steps,
            "stall_goal_reach": self.stall_toggle.goal_reach,
        }
        return save_checkpoint(
            directory,
            model_state=self.model.state_dict(),
            config=config,
            norm_stats=self.norm_stats.to_dict(),
            model_card=self.model_card,
        )

    @classmethod
    def from_pretrained(
        cls,
        directory: str | os.PathLike,
        encoder: SentenceEncoder | None = None,
        device: str = "cpu",
    ) -> RT1Policy:
        """Load a folder written by ``save_pretrained`` (or by training).

        Raises:
            ValueError: one line, for a missing/corrupt file or weights that do not match
                config.json.
        """
        ckpt = load_checkpoint(directory)
        where = ckpt.path / "config.json"
        if ckpt.config.get("policy") != cls.policy_name:
            raise ValueError(f"{where} is for policy {ckpt.config.get('policy')!r}, not 'rt1'")
        try:
            config = RT1Config.from_dict(ckpt.config["model"])
            norm_stats = NormStats.from_dict(ckpt.norm_stats)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{where} or norm_stats.json is invalid: {err}") from None
        language_model = ckpt.config.get("language_model", DEFAULT_ENCODER)
        stall = ckpt.config.get("stall_toggle_steps", 0)
        if not isinstance(stall, int) or stall < 0:
            raise ValueError(f"{where}: stall_toggle_steps must be an integer >= 0, got {stall!r}")
        reach = ckpt.config.get("stall_goal_reach", 0.0)
        if isinstance(reach, bool) or not isinstance(reach, (int, float)) or not reach >= 0:
            raise ValueError(f"{where}: stall_goal_reach must be a number >= 0 (m), got {reach!r}")
        policy = cls(config, norm_stats, encoder, language_model, device, stall, reach)
        try:
            policy.model.load_state_dict(ckpt.model_state, strict=True)
        except RuntimeError as err:
            lines = [ln.strip() for ln in str(err).splitlines()[1:] if ln.strip()]
            problem = (lines[0] if lines else str(err))[:300]
            raise ValueError(
                f"checkpoint {ckpt.path} does not match its config.json: {problem}"
            ) from None
        if ckpt.model_card:
            policy.model_card = ckpt.model_card
        return policy
