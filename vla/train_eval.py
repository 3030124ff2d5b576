"""Checks during training: validation loss/accuracy, and closed-loop success in the sim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from sim import TEST_SEED_START
from vla.checkpoint import read_config
from vla.evaluation import evaluate
from vla.models.rt1 import RT1
from vla.tokenizer import ActionTokenizer
from vla.train_data import to_model_inputs


@torch.no_grad()
def validate(
    model: RT1,
    loader: DataLoader,
    text: dict[str, torch.Tensor],
    tokenizer: ActionTokenizer,
    device: torch.device,
) -> tuple[float, np.ndarray]:
    """Mean loss and per-dimension token accuracy (11,) over ``loader``."""
    was_training = model.training
    model.eval()
    loss_sum, acc_sum, n = 0.0, torch.zeros(model.config.n_action_dims), 0
    for batch in loader:
        images, text_emb, state, tokens = to_model_inputs(batch, text, tokenizer, device)
        logits = model(images, text_emb, state)
        b = tokens.shape[0]
        loss_sum += model.loss(logits, tokens).item() * b
        acc_sum += model.token_accuracy(logits, tokens).cpu() * b
        n += b
    model.train(was_training)
    return loss_sum / max(n, 1), (acc_sum / max(n, 1)).numpy()


def sim_success(model_dir: str | Path, n_episodes: int, seed: int) -> float:
    """Success rate (0-1) of the checkpoint in ``model_dir`` on the ``single`` suite, test
    seeds from ``TEST_SEED_START + seed``, through ``vla.evaluation.evaluate``."""
    info = evaluate(
        "single",
        str(model_dir),
        n_episodes=n_episodes,
        seed=TEST_SEED_START + seed,
        output_dir=Path(model_dir).parent.parent / "sim_eval",  # run dir, not checkpoints/
        n_videos=0,
        image_size=int(read_config(model_dir)["model"]["image_size"]),
    )
    return info["aggregated"]["pc_success"] / 100
