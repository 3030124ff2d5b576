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
from vla.policies.rt2.checkpoint import export, load_full_state
from vla.policies.rt2.lora import load_adapter_state
from vla.policies.rt2.model import RT2, RT2Config
from vla.policies.rt2.scene_vqa import VQAPair, scene_vqa_pairs
from vla.policies.rt2.sequences import Sequences
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
        self.camera_names = list(store.cameras)
        self.checkpoint_config = {"policy": "rt2", "model": self.config.to_dict()}

    def export(self) -> dict[str, Any]:
        """``save_checkpoint``'s model arguments: adapters only with LoRA, the processor's
        files, config.json (``vla.policies.rt2.checkpoint``)."""
        parts = export(self.rt2)
        parts["config"] = {"policy": "rt2", **parts["config"], "camera_names": self.camera_names}
        return parts

    def load_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Weights of an ``export``ed checkpoint back into the model (resume, init_from)."""
        if self.config.lora:
            load_adapter_state(self.rt2.vlm, state)
        else:
            load_full_state(self.rt2, state, "init_from/resume")

    def sequences(
        self, batch: dict[str, Any]
    ) -> tuple[Sequences, dict[str, torch.Tensor], list[int]]:
        """Model inputs (prompt + answer (+ slot) rows, vision inputs) and the action rows."""
        tokens = torch.from_numpy(self.tokenizer.encode(batch["action"]))
        questions, answers, robot_rows = [], [], []
        for i, (instruction, question) in enumerate(zip(batch["instruction"], batch["question"])):
            if question is None:
                robot_rows.append(i)
                questions.append(self.rt2.prompt_text(instruction))
                answers.append(self.rt2.vocab.to_ids(tokens[i]).tolist())
            else:
                questions.append(question)
                answers.append(self.rt2.answer_ids(batch["answer"][i]))
        rows = [i in robot_rows for i in range(len(answers))]
        n_slots = N_ACTION_DIMS if self.config.decoding == "parallel" else 0
        seq, vision = self.rt2.sequences(batch["images"], questions, answers, n_slots, rows)
        return seq, vision, robot_rows

    def loss(
        self, batch: dict[str, Any], model: nn.Module
    ) -> tuple[torch.Tensor, torch.Tensor, int]:
        """(mean loss, per-dimension action-token accuracy (11,) of the decoding the model is
        trained for (NaN without robot rows), batch size)."""
        seq, vision, rows = self.sequences(batch)
        answer_logits, slot_logits = model(seq, vision)
        accuracy = torch.full((N_ACTION_DIMS,), float("nan"))
        if rows:
            parallel = seq.n_slots > 0
            logits = slot_logits if parallel else answer_logits[:, :N_ACTION_DIMS]
            labels = seq.slot_labels if parallel else seq.labels[:, :N_ACTION_DIMS]
            predicted = logits[rows].detach().argmax(-1)
            accuracy = (predicted == labels[rows]).float().mean(0).cpu()
        return RT2.loss(answer_logits, slot_logits, seq), accuracy, seq.labels.shape[0]

    def model_card(self, cfg: Any, step: int, val_loss: float | None) -> str:
        """A short human-readable description stored with every checkpoint."""
        c, val = self.config, "n/a" if val_loss is None else f"{val_loss:.4f}"
        backbone = c.backbone or "a small LLaVA (SigLIP-style ViT + Llama) built from scratch"
        method = "LoRA, adapters only" if c.lora else "full"
        return (
            f"# RT-2 policy\n\nFine-tuned from {backbone} ({method}, {self.rt2.family.name} "
            f"family) on `{cfg.data}` for {step} steps (batch {cfg.batch_size}, lr {cfg.lr}, "
            f"seed {cfg.seed}, precision {cfg.precision}), co-trained with "
            f"{self.cotrain[1]} scene question/answer pairs at ratio {self.cotrain[0]}; "
            f"{self.rt2.num_params():,} parameters ({self.rt2.num_params(True):,} trained); "
            f"validation loss {val}.\n\nPrompt: both cameras at {c.image_size}px as two "
            'images of one chat turn, then "What action should the robot take to '
            '{instruction}?". Output: 11 action tokens (256 bin tokens, 3 mode tokens, added to '
            f"the vocabulary), constrained decoding, {c.decoding} (parallel: 11 slots "
            "predicted in one forward pass; the model decodes autoregressively too).\n"
        )
