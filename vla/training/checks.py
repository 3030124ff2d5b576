"""Checks during training: validation loss/accuracy, and closed-loop success in the sim."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from sim import VAL_SEED_START
from vla.checkpoint import read_config
from vla.evaluation import evaluate
from vla.tokenizer import N_ACTION_DIMS


@torch.no_grad()
def validate(
    trainer: Any, model: nn.Module, loader: DataLoader, max_batches: int | None = None
) -> tuple[float, np.ndarray]:
    """Mean loss and per-dimension token accuracy (11,) over ``loader`` (its first
    ``max_batches`` batches when given), through ``trainer.loss``."""
    was_training = model.training
    model.eval()
    loss_sum, acc_sum, n = 0.0, torch.zeros(N_ACTION_DIMS), 0
    for index, batch in enumerate(loader):
        if max_batches is not None and index >= max_batches:
            break
        loss, accuracy, b = trainer.loss(batch, model)
        loss_sum += loss.item() * b
        acc_sum += accuracy * b
        n += b
    model.train(was_training)
    return loss_sum / max(n, 1), (acc_sum / max(n, 1)).numpy()


def sim_success(model_dir: str | Path, n_episodes: int, seed: int) -> float:
    """Success rate (0-1) of the checkpoint in ``model_dir`` on the ``single`` suite,
    validation seeds from ``VAL_SEED_START + seed`` (never the test seeds: a run's figures
    may guide choices), through ``vla.evaluation.evaluate``."""
    info = evaluate(
        "single",
        str(model_dir),
        n_episodes=n_episodes,
        seed=VAL_SEED_START + seed,
        output_dir=Path(model_dir).parent.parent / "sim_eval",  # run dir, not checkpoints/
        n_videos=0,
        image_size=int(read_config(model_dir)["model"]["image_size"]),
    )
    return info["aggregated"]["pc_success"] / 100
