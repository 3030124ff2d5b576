"""RT-1 as a closed-loop policy: observation in, one de-tokenised 11-dim action out.

Everything the policy returns is the network's own output: with ``chunk`` > 1 the chunks are
executed with ACT's temporal ensembling (:mod:`vla.policies.rt1.temporal_ensemble`, part of
the published method) or a receding horizon; no hand-written rule touches the action. Rules
that do (the stall rule) are separate, opt-in wrappers in :mod:`vla.filters`.
"""

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
from vla.policies.rt1.temporal_ensemble import TemporalEnsembler
from vla.policies.rt1.traced import TracedForward
from vla.tokenizer import N_CONTINUOUS, ActionTokenizer, NormStats

CHUNK_EXECUTION = ("ensemble", "receding")
RULE_KEYS = ("stall_toggle_steps", "stall_goal_reach")  # moved out of the policy


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
        chunk_execution: with ``config.chunk`` > 1, ``"ensemble"`` (ACT's temporal
            ensembling: predict every step, average the overlapping predictions) or
            ``"receding"`` (execute a whole chunk open-loop, then predict again). Saved in
            config.json.
        ensemble_decay: ACT's ``m`` for ``"ensemble"``. Saved in config.json.

    ``last_goal`` holds the goal head's latest estimate of the hand's offset (m) to where the
    skill grasps or releases (None without a goal head), for wrappers that read it.
    """

    def __init__(
        self,
        config: RT1Config | None = None,
        norm_stats: NormStats | None = None,
        encoder: SentenceEncoder | None = None,
        language_model: str = DEFAULT_ENCODER,
        device: str = "cpu",
        chunk_execution: str = "ensemble",
        ensemble_decay: float = 0.01,
    ) -> None:
        self.config = config or RT1Config()
        if chunk_execution not in CHUNK_EXECUTION:
            raise ValueError(f"chunk_execution: one of {CHUNK_EXECUTION}, not {chunk_execution!r}")
        self.chunk_execution = chunk_execution
        self.ensembler = TemporalEnsembler(self.config.chunk, ensemble_decay)
        self._queue: list[np.ndarray] = []  # receding horizon: actions still to execute
        self.last_goal: np.ndarray | None = None
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
        self._forward = TracedForward(self.model, self.config.goal_head, self.device.type == "cpu")
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
    def traced(self) -> bool:
        """Whether inference runs the traced forward pass (:mod:`vla.policies.rt1.traced`;
        on by default on the CPU, where it is faster and gives the same actions)."""
        return self._forward.enabled

    @traced.setter
    def traced(self, on: bool) -> None:
        self._forward.enabled = bool(on) and self.device.type == "cpu"

    @property
    def image_size(self) -> int:
        """Side (pixels) the model sees; larger or smaller camera images are resized to it."""
        return self.config.image_size

    def reset(self) -> None:
        """Clear the frame history (the next observation is repeated to fill it) and the
        chunks predicted so far."""
        self._frames.clear()
        self.ensembler.reset()
        self._queue.clear()
        self.last_goal = None

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
        if self.config.chunk > 1 and self.chunk_execution == "receding":
            if not self._queue:
                self._queue = list(self.predict_chunk(observation))
            else:
                self._remember(observation)  # keep the frame history current
            return self._queue.pop(0)
        return self.ensembler(self.predict_chunk(observation))

    def _remember(self, observation: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Add the observation to the frame history; returns frames (1, T, N, 3, S, S) and
        states (1, T, 10)."""
        images = torch.stack([self._camera(observation["images"][n], n) for n in CAMERA_NAMES])
        state = torch.as_tensor(np.asarray(observation["state"], np.float32), device=self.device)
        if not self._frames:  # episode start: pad the history with the first frame
            self._frames.extend([(images, state)] * self.config.history)
        else:
            self._frames.append((images, state))
        frames = torch.stack([f[0] for f in self._frames])[None]  # (1, T, N, 3, S, S)
        states = torch.stack([f[1] for f in self._frames])[None]  # (1, T, 10)
        return frames, states

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray:
        """The network's next ``chunk`` actions (k, 11) float32 for ``observation`` (added
        to the frame history); also updates ``last_goal``."""
        frames, states = self._remember(observation)
        text = self.encoder.encode([observation["instruction"]]).to(self.device)  # (1, 384)
        want_goal = self.config.goal_head
        with torch.inference_mode():
            out = self._forward(frames, text, states if self.config.state_dim else None)
        logits, goal = out if want_goal else (out, None)
        tokens = logits.argmax(dim=-1)[0].cpu().numpy().reshape(self.config.chunk, -1)
        if goal is not None:
            self.last_goal = goal[0].cpu().numpy() / GOAL_SCALE  # decimetres -> m
        return self.tokenizer.decode(tokens).astype(np.float32)  # (k, 11)

    def save_pretrained(self, directory: str | os.PathLike) -> pathlib.Path:
        """Write config.json, model.safetensors, norm_stats.json and README.md atomically."""
        config = {
            "policy": self.policy_name,
            "model": self.config.to_dict(),
            "language_model": self.encoder.name_or_path,
            "camera_names": list(CAMERA_NAMES),
            "chunk_execution": self.chunk_execution,
            "ensemble_decay": self.ensembler.decay,
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
        rules = [k for k in RULE_KEYS if ckpt.config.get(k)]
        if rules:
            raise ValueError(
                f"{where} turns on the stall rule ({', '.join(rules)}), no longer part of "
                "RT-1: delete those keys and wrap the policy instead (policy_filter=stall_toggle)"
            )
        execution = ckpt.config.get("chunk_execution", "ensemble")
        decay = ckpt.config.get("ensemble_decay", 0.01)
        if isinstance(decay, bool) or not isinstance(decay, int | float) or not decay >= 0:
            raise ValueError(f"{where}: ensemble_decay must be a number >= 0, got {decay!r}")
        policy = cls(config, norm_stats, encoder, language_model, device, execution, decay)
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
