"""vla-train's RT-2 side: a VLM fine-tuned to answer with action tokens, co-trained on VQA.

The robot items are single frames (RT-2 conditions on the current image only; no state) of
both cameras; the co-training items are question/answer pairs about recorded frames
(``vla.policies.rt2.scene_vqa``), mixed in at ``cotrain_ratio`` of all training samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from vla.data.episode_store import EpisodeStore
from vla.data.torch_dataset import FrameDataset
from vla.policies.rt2.model import RT2, RT2Config
from vla.policies.rt2.scene_vqa import VQAPair, scene_vqa_pairs
from vla.tokenizer import N_ACTION_DIMS, ActionTokenizer, NormStats
from vla.training.data import AugmentedFrames
from vla.training.trainer import register_trainer


class CoTrainingSet(Dataset):
    """Robot frames followed by ``n_vqa`` co-training items, keyed by ``(index, aug_seed)``.

    Index ``i < len(robot)`` is robot step ``i``; a larger index is VQA pair
    ``(i - len(robot)) % len(pairs)``, shown with the (augmented) frame it asks about.
    """

    def __init__(self, robot: FrameDataset, pairs: list[VQAPair], n_vqa: int) -> None:
        self.robot = AugmentedFrames(robot)
        self.pairs = pairs
        self.n_robot = len(robot)
        self.n_vqa = n_vqa if pairs else 0
        starts = np.cumsum([0] + [robot.store.record(i)["n_steps"] for i in robot.episode_ids])
        self.start = dict(zip(robot.episode_ids, starts.tolist(), strict=False))

    def __len__(self) -> int:
        return self.n_robot + self.n_vqa

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        index, aug_seed = key
        if index < self.n_robot:
            return self.robot[(index, aug_seed)]
        pair = self.pairs[(index - self.n_robot) % len(self.pairs)]
        item = self.robot[(self.start[pair.episode_id] + pair.step, aug_seed)]
        return item | {"question": pair.question, "answer": pair.answer}


def collate_rt2(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Batch of single frames: images (B, n_cams, 3, H, W) uint8, actions (B, 11) float32,
    and per item either its instruction (robot) or its question and answer (VQA)."""
    return {
        "images": torch.stack([torch.as_tensor(it["images"])[-1] for it in items]),
        "action": np.stack([np.asarray(it["action"], np.float32) for it in items]),
        "instruction": [it["instruction"] for it in items],
        "question": [it.get("question") for it in items],
        "answer": [it.get("answer") for it in items],
    }


def rt2_config(cfg: Any, n_cameras: int) -> RT2Config:
    """``RT2Config`` from ``cfg.model`` (options left at None: defaults) and the data's image
    size."""
    fields = cfg.model.for_policy("rt2")
    return RT2Config.from_dict({"image_size": cfg.image_size, "n_cameras": n_cameras, **fields})


@register_trainer("rt2")
class RT2Trainer:
    """Next-token cross-entropy on the answer tokens (11 action tokens, or a text answer)."""

    collate = staticmethod(collate_rt2)

    def __init__(
        self,
        cfg: Any,
        store: EpisodeStore,
        split: tuple[list[int], list[int]],
        norm: NormStats,
        device: torch.device,
    ) -> None:
        ratio = cfg.cotrain_ratio
        size = (cfg.image_size, cfg.image_size)
        kwargs = dict(history=1, image_size=size, cache_episodes=cfg.cache_episodes)
        robot = FrameDataset(store, split[0], **kwargs)
        pairs = scene_vqa_pairs(store, split[0])
        n_vqa = round(len(robot) * ratio / (1.0 - ratio))
        self.train_set: Dataset = CoTrainingSet(robot, pairs, n_vqa)
        self.val_set: Dataset = FrameDataset(store, split[1], **kwargs)
        self.config = rt2_config(cfg, len(store.cameras))
        self.rt2 = RT2.build(self.config).to(device)
        self.model: nn.Module = self.rt2
        self.tokenizer = ActionTokenizer(norm, n_bins=self.config.n_bins)
        self.device = device
        self.cotrain = (ratio, len(pairs))
        self.checkpoint_config = {"policy": "rt2", **self.rt2.checkpoint_fields()}
        self.checkpoint_config["camera_names"] = list(store.cameras)

    def sequences(self, batch: dict[str, Any]) -> tuple[dict[str, torch.Tensor], list[int]]:
        """Model batch (prompt + answer ids, labels) and the rows that are robot actions."""
        tokens = torch.from_numpy(self.tokenizer.encode(batch["action"]))
        prompts, answers, robot_rows = [], [], []
        for i, (instruction, question) in enumerate(zip(batch["instruction"], batch["question"])):
            if question is None:
                robot_rows.append(i)
                prompts.append(self.rt2.prompt_ids(instruction))
                answers.append(self.rt2.vocab.to_ids(tokens[i]).tolist())
            else:
                prompts.append(self.rt2.prompt_ids(question, instruction=False))
                answers.append(self.rt2.answer_ids(batch["answer"][i]))
        sequences = self.rt2.batch(prompts, answers)
        return {k: v.to(self.device) for k, v in sequences.items()}, robot_rows

    def loss(
        self, batch: dict[str, Any], model: nn.Module
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """(mean loss, per-dimension action-token accuracy (11,; NaN without robot rows),
        batch size)."""
        sequences, rows = self.sequences(batch)
        logits = model(sequences, self.rt2.pixel_values(batch["images"].to(self.device)))
        labels = sequences["labels"]
        accuracy = torch.full((N_ACTION_DIMS,), float("nan"))
        if rows:
            predicted = logits[rows, -N_ACTION_DIMS:].detach().argmax(-1)
            accuracy = (predicted == labels[rows, -N_ACTION_DIMS:]).float().mean(0).cpu()
        return RT2.loss(logits, labels), accuracy, labels.shape[0]

    def model_card(self, cfg: Any, step: int, val_loss: float | None) -> str:
        """A short human-readable description stored with every checkpoint."""
        c, val = self.config, "n/a" if val_loss is None else f"{val_loss:.4f}"
        backbone = c.backbone or "a small LLaVA (SigLIP-style ViT + Llama) built from scratch"
        return (
            f"# RT-2 policy\n\nFine-tuned from {backbone} ({'LoRA' if c.lora else 'full'}) on "
            f"`{cfg.data}` for {step} steps (batch {cfg.batch_size}, lr {cfg.lr}, seed "
            f"{cfg.seed}), co-trained with {self.cotrain[1]} scene question/answer pairs at "
            f"ratio {self.cotrain[0]}; {self.rt2.num_params():,} parameters; validation loss "
            f'{val}.\n\nPrompt: both cameras at {c.image_size}px as two images, then "What '
            'action should the robot take to {instruction}?". Output: 11 action tokens '
            "(256 bin tokens, 3 mode tokens, added to the vocabulary), constrained decoding.\n"
        )
