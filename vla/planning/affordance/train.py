"""Train the learned affordance: BCE on (images, skill) -> success, split by episode.

A flat loop in the nanoGPT/CleanRL spirit: load the shards, embed every distinct skill
once with the frozen encoder, hold out whole episodes (a state's samples share images, so
a per-sample split would leak), train with small random image shifts, keep the weights
with the best validation loss, and write the checkpoint atomically with a model card.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from vla.language import DEFAULT_ENCODER, SentenceEncoder
from vla.options import at_least, in_range, positive
from vla.planning.affordance.dataset import load_dataset
from vla.planning.affordance.learned import LearnedAffordance
from vla.planning.affordance.metrics import bce, evaluate, format_metrics, oracle_top1
from vla.planning.affordance.model import AffordanceNet, AffordanceNetConfig
from vla.planning.affordance.model_card import model_card
from vla.planning.affordance.skills import skill_types


@dataclass
class AffordanceTrainConfig:
    """Options of ``vla-train-affordance`` (configs/train_affordance.yaml)."""

    data_dir: str = "data/affordance"  # shards written by vla-collect-affordance
    output_dir: str = "outputs/affordance"  # the checkpoint folder
    steps: int = 500  # optimizer steps (the best validation loss is kept)
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    val_fraction: float = 0.2  # share of *episodes* held out
    shift: int = 4  # random image shift, pixels (augmentation)
    eval_every: int = 25  # steps between validation passes
    width: int = 128  # AffordanceNet width
    dropout: float = 0.1
    encoder: str = DEFAULT_ENCODER
    seed: int = 0
    threads: int = 1  # torch CPU threads
    command: str = ""  # how this run was launched, for the model card ("": the command line)

    def __post_init__(self) -> None:
        at_least(self, 1, "steps", "batch_size", "eval_every", "width", "threads")
        at_least(self, 0, "weight_decay", "shift", "seed")
        in_range(self, "val_fraction", 0.0, 1.0)
        in_range(self, "dropout", 0.0, 1.0)
        positive(self, "lr")


def split_episodes(episodes: np.ndarray, val_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of validation samples: whole episodes, a ``val_fraction`` share of them."""
    unique = np.unique(episodes)
    n_val = int(round(len(unique) * val_fraction))
    if not 0 < n_val < len(unique):
        raise ValueError(
            f"{len(unique)} episodes cannot be split with val_fraction={val_fraction}: "
            "collect more episodes or change val_fraction"
        )
    val = np.random.default_rng(seed).choice(unique, n_val, replace=False)
    return np.isin(episodes, val)


def random_shift(images: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """(B, H, W, 3) uint8: shift each image by up to ``pad`` px (edge pixels fill the gap)."""
    if pad <= 0:
        return images
    b, h, w, _ = images.shape
    padded = F.pad(images.permute(0, 3, 1, 2).float(), (pad,) * 4, mode="replicate")
    dx, dy = torch.randint(0, 2 * pad + 1, (2, b), generator=generator).tolist()
    crops = [padded[i, :, y : y + h, x : x + w] for i, (x, y) in enumerate(zip(dx, dy))]
    return torch.stack(crops).permute(0, 2, 3, 1).to(torch.uint8)


class Batches:
    """Tensors of one split, the skill embeddings looked up by index."""

    def __init__(self, data: dict, mask: np.ndarray, embeddings: torch.Tensor, index: dict):
        self.front = torch.from_numpy(data["front"][mask])
        self.wrist = torch.from_numpy(data["wrist"][mask])
        self.skill = embeddings[[index[s] for s in data["skill"][mask]]]
        self.label = torch.from_numpy(data["label"][mask].astype(np.float32))
        self.feasible = data["feasible"][mask]
        self.oracle = data["oracle"][mask]
        self.episode = data["episode"][mask]
        self.types = skill_types(data["skill"][mask])

    def __len__(self) -> int:
        return len(self.label)

    def sample(self, size: int, shift: int, gen: torch.Generator):
        """A random training batch with shifted images."""
        idx = torch.randint(0, len(self), (size,), generator=gen)
        front = random_shift(self.front[idx], shift, gen)
        wrist = random_shift(self.wrist[idx], shift, gen)
        return front, wrist, self.skill[idx], self.label[idx]


@torch.no_grad()
def predict(model: AffordanceNet, split: Batches, chunk: int = 256) -> np.ndarray:
    """Success probabilities of every sample of ``split``."""
    model.eval()
    out = [
        torch.sigmoid(
            model(
                split.front[i : i + chunk], split.wrist[i : i + chunk], split.skill[i : i + chunk]
            )
        )
        for i in range(0, len(split), chunk)
    ]
    model.train()
    return torch.cat(out).numpy()


def train_affordance(cfg: AffordanceTrainConfig) -> dict:
    """Train, write the checkpoint to ``cfg.output_dir`` and return the validation metrics."""
    if cfg.steps < 1 or cfg.batch_size < 1 or cfg.eval_every < 1:
        raise ValueError("steps, batch_size and eval_every must be at least 1")
    start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    data = load_dataset(cfg.data_dir)
    encoder = SentenceEncoder(cfg.encoder)
    skills = sorted(set(data["skill"].tolist()))
    embeddings, index = encoder.encode(skills), {s: i for i, s in enumerate(skills)}
    val_mask = split_episodes(data["episode"], cfg.val_fraction, cfg.seed)
    train, val = (Batches(data, m, embeddings, index) for m in (~val_mask, val_mask))
    size = data["front"].shape[1]
    model = AffordanceNet(
        AffordanceNetConfig(size, encoder.dim, width=cfg.width, dropout=cfg.dropout)
    )
    best, history = _fit(model, train, val, cfg)
    model.load_state_dict(best["state"])
    probs = predict(model, val)
    metrics = evaluate(probs, val.label.numpy(), val.feasible, val.oracle, val.types)
    result = {
        "samples": len(data["label"]),
        "train_samples": len(train),
        "val_samples": len(val),
        "episodes": int(len(np.unique(data["episode"]))),
        "best_step": best["step"],
        "train_seconds": round(time.perf_counter() - start, 1),
        "val_oracle_top1": oracle_top1(probs, val.oracle, val.episode),
        "val": metrics,
    }
    card = model_card(cfg, result, data, history)
    LearnedAffordance(model, encoder).save_pretrained(cfg.output_dir, model_card=card)
    print(format_metrics(metrics))
    print(json.dumps({k: v for k, v in result.items() if k != "val"}))
    return result


def _fit(model: AffordanceNet, train: Batches, val: Batches, cfg: AffordanceTrainConfig):
    """The optimisation loop; returns the best-validation-loss weights and the loss history."""
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps, eta_min=cfg.lr / 10)
    best = {"loss": float("inf"), "step": 0, "state": None}
    history, running = [], []
    model.train()
    for step in range(1, cfg.steps + 1):
        front, wrist, skill, label = train.sample(cfg.batch_size, cfg.shift, gen)
        loss = F.binary_cross_entropy_with_logits(model(front, wrist, skill), label)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running.append(loss.item())
        if step % cfg.eval_every == 0 or step == cfg.steps:
            val_loss = round(bce(predict(model, val), val.label.numpy()), 4)
            history.append(
                {"step": step, "train_loss": float(np.mean(running)), "val_loss": val_loss}
            )
            running.clear()
            if val_loss < best["loss"]:
                state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                best = {"loss": val_loss, "step": step, "state": state}
    return best, history
