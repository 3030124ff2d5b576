"""Options of ``vla-train`` (:class:`TrainConfig`), with the model options of every policy.

``policy`` names the registered policy to train (``rt1`` or ``rt2``: the trainers of
:mod:`vla.training.trainer`); to start from a checkpoint folder's weights, add
``init_from=<folder>``. The model options of both policies sit under one path, ``model.*``
(:class:`ModelOptions`): an option left at None keeps the policy's own default
(``RT1Config`` / ``RT2Config``), and an option of the other policy is a one-line error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from vla.data.lerobot.importer import LeRobotMapping
from vla.options import at_least, in_range, one_of, positive

RT1_OPTIONS = (
    "cnn_channels",
    "cnn_stem_stride",
    "cnn_residual_blocks",
    "film",
    "tokens_per_image",
    "d_model",
    "n_layers",
    "n_heads",
    "mlp_ratio",
    "dropout",
    "state_dim",
    "spatial_coords",
    "goal_head",
    "chunk",
)
RT2_OPTIONS = (
    "backbone",
    "lora",
    "lora_rank",
    "decoding",
    "patch_size",
    "vision_dim",
    "vision_layers",
    "text_dim",
    "text_layers",
    "n_heads",
)
PRECISIONS = ("fp32", "bf16")  # TrainConfig.precision
POLICY_OPTIONS = {"rt1": RT1_OPTIONS, "rt2": RT2_OPTIONS}  # a new policy adds its fields below


@dataclass
class ModelOptions:
    """``model.*``: the policy's architecture; None keeps the policy config's default (shown)."""

    # policy=rt1 (vla.policies.rt1.model.RT1Config)
    cnn_channels: list[int] | None = None  # [24, 48, 96]
    cnn_stem_stride: int | None = None  # 4
    cnn_residual_blocks: int | None = None  # 1
    film: bool | None = None  # true
    tokens_per_image: int | None = None  # 8
    d_model: int | None = None  # 128
    n_layers: int | None = None  # 4
    mlp_ratio: int | None = None  # 4
    dropout: float | None = None  # 0.1
    state_dim: int | None = None  # the dataset's (10); 0: no proprioception tokens
    spatial_coords: bool | None = None  # false; true: x/y channels before TokenLearner
    goal_head: bool | None = None  # false; true: auxiliary head for the offset to the goal point
    chunk: int | None = None  # 1; k > 1: predict the next k actions at every step (chunks)
    # both policies
    n_heads: int | None = None  # 4
    # policy=rt2 (vla.policies.rt2.model.RT2Config); the sizes are ignored with a backbone
    backbone: str | None = None  # local VLM folder (rt2.backbones' families); None: from scratch
    lora: bool | None = None  # false; true: adapter-only LoRA (peft) on the LM (needs backbone)
    lora_rank: int | None = None  # 16
    decoding: str | None = None  # parallel (one pass; decodes both ways) | autoregressive
    patch_size: int | None = None  # 16: (64 / 16) ** 2 = 16 image tokens per camera
    vision_dim: int | None = None  # 128
    vision_layers: int | None = None  # 2
    text_dim: int | None = None  # 128
    text_layers: int | None = None  # 4

    def for_policy(self, policy: str) -> dict[str, Any]:
        """The options that are set, for ``policy``'s config class.

        Raises:
            ValueError: an option that ``policy`` does not take.
        """
        given = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        known = POLICY_OPTIONS[policy]
        other = [k for k in given if k not in known]
        if other:
            raise ValueError(
                f"model.{other[0]} is not an option of policy={policy}; its options: "
                f"{', '.join(known)}"
            )
        return given


@dataclass
class TrainConfig:
    """``vla-train``: behaviour cloning of a VLA policy on a ``vla-record`` dataset."""

    policy: str = "rt1"  # the registered policy to train: rt1 | rt2
    data: str = "data/demos"  # dataset folder (its "train" split is split again into train/val)
    output_dir: str = "outputs/train"  # checkpoints/{last,best}, metrics.csv, tb/ (TensorBoard)
    steps: int = 20_000  # optimizer steps
    batch_size: int = 64  # per process
    lr: float = 3e-4
    weight_decay: float = 0.1
    warmup_steps: int = 500  # linear warmup, then cosine decay to 0.1 * lr
    lr_decay_steps: int | None = None  # end of the cosine (nanoGPT's lr_decay_iters); None: steps
    grad_clip: float = 1.0  # max global gradient norm
    grad_accum_steps: int = 1  # batches of batch_size summed per optimizer step
    precision: str = "fp32"  # fp32 | bf16: bfloat16 autocast, fp32 master weights (AMX CPU, GPU)
    history: int = 2  # frames of context per sample (rt2 reads the last frame only)
    image_size: int = 64  # pixels
    val_fraction: float = 0.1  # of recorded tasks (all skills of one task stay on one side)
    log_every: int = 10  # steps between train rows in metrics.csv / TensorBoard
    checkpoint_every: int = 500  # steps between val evaluation + checkpoints/last (+ best)
    max_val_batches: int | None = None  # validate on the first N val batches only; None: all
    eval_every: int = 0  # steps between closed-loop sim evaluations; 0: off
    eval_episodes: int = 10  # single-suite episodes per sim evaluation (validation seeds)
    seed: int = 0
    num_workers: int = 0  # DataLoader worker processes
    # decoded episodes kept in memory per process (~25 KB a step at 64 px); the default
    # keeps a whole dataset of ordinary size
    cache_episodes: int = 20_000
    # policy=rt1: a vla-record-scenes folder or a list of them; co-trains the goal head on
    # them (needs model.goal_head=true)
    scenes: Any = None
    cotrain_ratio: float = 0.1  # policy=rt2: share of samples that are scene question/answers
    # policy=rt1: draw steps by the family/skill of their episode, fnmatch pattern -> weight
    # ("+sample_weights={*/place_on: 2}"; vla.training.sampling); empty: every step alike
    sample_weights: dict[str, float] = field(default_factory=dict)
    resume: bool = False  # continue from output_dir/checkpoints/last
    # a policy checkpoint folder: start from its weights and normalisation (fine-tuning;
    # fresh optimizer)
    init_from: str | None = None
    model: ModelOptions = field(default_factory=ModelOptions)
    # data= a LeRobotDataset v3 folder: how its features map onto our contract (converted
    # once into output_dir/lerobot_import; docs/datasets.md)
    lerobot: LeRobotMapping = field(default_factory=LeRobotMapping)

    def __post_init__(self) -> None:
        at_least(self, 1, "steps", "batch_size", "history", "image_size", "log_every")
        at_least(self, 1, "checkpoint_every", "max_val_batches", "eval_episodes")
        at_least(self, 1, "cache_episodes", "lr_decay_steps", "grad_accum_steps")
        one_of(self, "precision", PRECISIONS)
        at_least(self, 0, "weight_decay", "warmup_steps", "eval_every", "seed", "num_workers")
        positive(self, "lr", "grad_clip")
        in_range(self, "val_fraction", 0.0, 1.0)
        in_range(self, "cotrain_ratio", 0.0, 1.0)
        if any(not float(w) > 0 for w in self.sample_weights.values()):
            raise ValueError(f"sample_weights={self.sample_weights}: weights must be > 0")
        if not all(isinstance(s, str) for s in self.scene_folders):
            raise ValueError(f"scenes={self.scenes!r}: give a folder or a list of folders")
        if self.policy in POLICY_OPTIONS:  # another name: TRAINERS names the trainable ones
            self.model.for_policy(self.policy)  # an option of the other policy: fail now

    @property
    def scene_folders(self) -> list[str]:
        """``scenes`` as a list of folders (empty: no scene co-training)."""
        return [self.scenes] if isinstance(self.scenes, str) else list(self.scenes or [])
