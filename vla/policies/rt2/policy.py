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
from vla.policies.rt2.checkpoint import export, restore
from vla.policies.rt2.model import RT2, RT2Config
from vla.tokenizer import ActionTokenizer, NormStats

NO_MODEL = (
    "policy 'rt2' has no bundled checkpoint and is never built untrained by default: pass a "
    "trained RT-2 checkpoint folder (policy=<output_dir>/checkpoints/best of `vla-train "
    "policy=rt2`), or in Python RT2Policy(backbone=<local VLM folder>) or RT2Policy(RT2Config(...))"
)


def dtype_of(name: str) -> torch.dtype:
    """``"float32"``/``"fp32"`` or ``"bfloat16"``/``"bf16"`` as a torch dtype."""
    dtypes = {"float32": torch.float32, "fp32": torch.float32}
    dtypes |= {"bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if name not in dtypes:
        raise ValueError(f"dtype must be one of {sorted(dtypes)}, got {name!r}")
    return dtypes[name]


@register_policy("rt2")
class RT2Policy(Policy):
    """An ``RT2`` model (eval mode) + action tokenizer; memoryless (current frame only).

    Args:
        config: model hyper-parameters, e.g. ``RT2Config()`` for the small from-scratch
            configuration (untrained).
        norm_stats: action normalisation; default q01 = -1, q99 = 1 (untrained).
        device: torch device of the model.
        model: an already built ``RT2`` (e.g. from a checkpoint).
        backbone: a local VLM folder: shorthand for ``RT2Config(backbone=...)`` (untrained
            action tokens).
        decoding: "autoregressive" or "parallel"; default: what the model was trained for.
        dtype: "float32" or "bfloat16" weights for inference.

    Raises:
        ValueError: none of ``config``, ``model``, ``backbone`` given (no silent random model).
    """

    def __init__(
        self,
        config: RT2Config | None = None,
        norm_stats: NormStats | None = None,
        device: str = "cpu",
        model: RT2 | None = None,
        backbone: str | None = None,
        decoding: str | None = None,
        dtype: str = "float32",
    ) -> None:
        if model is None and config is None and backbone is None:
            raise ValueError(NO_MODEL)
        if model is None:
            config = config or RT2Config(backbone=backbone)
            model = RT2.build(config)
        self.config = model.config
        self.norm_stats = norm_stats or _untrained_stats()
        self.device = torch.device(device)
        self.model = model.to(self.device, dtype_of(dtype)).eval()
        self.decoding = decoding or self.config.decoding
        if self.decoding == "parallel" and self.config.decoding != "parallel":
            raise ValueError("decoding='parallel' needs a model trained with decoding=parallel")
        self.tokenizer = ActionTokenizer(self.norm_stats, n_bins=self.config.n_bins)
        self.model_card = (
            f"# RT-2 policy (vla-stack)\n\nA {self.model.family.name} VLM that answers with 11 "
            f"action tokens, {self.model.num_params():,} parameters. Untrained unless a "
            "training run replaced this card.\n"
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
            self._images(observation), [observation["instruction"]], self.decoding
        )
        tokens = self.model.vocab.from_ids(ids)[0].numpy()
        return self.tokenizer.decode(tokens).astype(np.float32)

    def save_pretrained(self, directory: str | os.PathLike) -> pathlib.Path:
        """Write the checkpoint folder (``vla.policies.rt2.checkpoint``) atomically."""
        parts = export(self.model)
        config = {"policy": self.policy_name, **parts["config"]}
        config["camera_names"] = list(CAMERA_NAMES)
        return save_checkpoint(
            directory,
            model_state=parts["model_state"],
            config=config,
            norm_stats=self.norm_stats.to_dict(),
            model_card=self.model_card,
            extra_files=parts["extra_files"],
        )

    @classmethod
    def from_pretrained(
        cls,
        directory: str | os.PathLike,
        device: str = "cpu",
        decoding: str | None = None,
        dtype: str = "float32",
        base_model: str | None = None,
        merge_adapters: bool = False,
    ) -> RT2Policy:
        """Load a folder written by ``save_pretrained`` or by ``vla-train policy=rt2``.

        ``base_model`` and ``merge_adapters`` apply to LoRA checkpoints (adapters only): the
        base folder if it moved, and whether to merge the adapters into its weights.

        Raises:
            ValueError: one line, for a missing/corrupt file, a missing or different base
                model, or weights that do not match.
        """
        ckpt = load_checkpoint(directory)
        where = ckpt.path / "config.json"
        if ckpt.config.get("policy") != cls.policy_name:
            raise ValueError(f"{where} is for policy {ckpt.config.get('policy')!r}, not 'rt2'")
        try:
            norm_stats = NormStats.from_dict(ckpt.norm_stats)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{ckpt.path / 'norm_stats.json'} is invalid: {err}") from None
        model = restore(ckpt, base_model, merge_adapters)
        policy = cls(
            norm_stats=norm_stats, device=device, model=model, decoding=decoding, dtype=dtype
        )
        if ckpt.model_card:
            policy.model_card = ckpt.model_card
        return policy
