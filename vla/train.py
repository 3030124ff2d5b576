"""Behaviour-cloning training of the RT-1 policy on an :class:`EpisodeStore` dataset.

One flat loop in the nanoGPT spirit: split episodes into train/val, fit action NormStats on
the train split, embed every instruction once, then AdamW with linear warmup + cosine decay
and gradient clipping. Metrics go to a tqdm bar, TensorBoard and ``metrics.csv``; checkpoints
go to ``output_dir/checkpoints/{last,best}`` through :mod:`vla.checkpoint`.

Resuming is exact on CPU (same seed): the batch order and the augmentation of every sample
are pure functions of (seed, epoch, position) rather than of an RNG stream, and the only
stream left, torch's global RNG (dropout), is saved in the checkpoint. Under ``torchrun``
(RANK/WORLD_SIZE set) the model is wrapped in DDP; ``batch_size`` is per process and only
rank 0 evaluates, logs and saves.
"""

from __future__ import annotations

import csv
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from omegaconf import OmegaConf
from torch.utils.data import DataLoader, DistributedSampler
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from vla.checkpoint import load_checkpoint, save_checkpoint
from vla.data.episode_store import EpisodeStore
from vla.data.torch_dataset import FrameDataset, collate, split_episodes
from vla.language import DEFAULT_ENCODER
from vla.models.rt1 import RT1, RT1Config
from vla.tokenizer import ACTION_NAMES, ActionTokenizer, NormStats
from vla.train_data import (
    AugmentedFrames,
    embed_instructions,
    to_model_inputs,
    train_actions,
    train_batches,
)
from vla.train_eval import sim_success, validate

LAST, BEST = "last", "best"
CSV_FIELDS = (
    ["step", "lr", "samples_per_s", "train_loss", "train_acc", "val_loss", "val_acc"]
    + [f"train_acc_{name}" for name in ACTION_NAMES]
    + [f"val_acc_{name}" for name in ACTION_NAMES]
    + ["sim_success"]
)


# --- distributed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    """Process layout: rank 0 of 1 unless launched by torchrun."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Only the main process logs, evaluates and writes checkpoints."""
        return self.rank == 0


def setup_distributed() -> tuple[Dist, torch.device]:
    """Initialise DDP when torchrun set WORLD_SIZE > 1; pick cuda if available."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local_rank}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return Dist(rank, world, local_rank), device


# --- optimisation -------------------------------------------------------------------------


def lr_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float = 0.1) -> float:
    """Linear warmup to 1, then cosine decay to ``min_ratio`` at ``total_steps``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model: RT1, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW; biases, norms and embeddings (1-D or position tables) get no weight decay."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        embedding = name.endswith("_emb") or name == "action_queries"
        (no_decay if param.dim() < 2 or embedding else decay).append(param)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


# --- checkpoints and logs -----------------------------------------------------------------


def rng_states() -> dict[str, Any]:
    """RNG states as plain lists/tensors (safe for ``torch.load(weights_only=True)``)."""
    np_state = np.random.get_state()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Inverse of :func:`rng_states`."""
    torch.set_rng_state(states["torch"].cpu())
    name, keys, *rest = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def model_card(
    cfg: Any, config: RT1Config, n_params: int, step: int, val_loss: float | None
) -> str:
    """A short human-readable description stored with every checkpoint."""
    val = "n/a" if val_loss is None else f"{val_loss:.4f}"
    return (
        f"# RT-1 policy\n\nBehaviour cloning on `{cfg.data}` for {step} steps "
        f"(batch {cfg.batch_size}, lr {cfg.lr}, seed {cfg.seed}); {n_params:,} parameters; "
        f"validation loss {val}.\n\nInputs: {config.history} frames of the cameras "
        f"front and wrist at {config.image_size}px, a MiniLM instruction embedding and the "
        f"{config.state_dim}-d robot state. Output: 11 action tokens (256 bins, mode 3).\n"
    )


def open_metrics_csv(path: Path, resume_step: int | None) -> Any:
    """Open ``metrics.csv`` for appending; on resume keep only rows up to the checkpoint step
    (rows logged after it are replayed by the resumed run)."""
    rows: list[dict[str, str]] = []
    if resume_step is not None and path.is_file():
        with path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
    f = path.open("w", newline="")
    writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    f.flush()
    return f, writer


# --- the training run -----------------------------------------------------------------------


def train(cfg: Any) -> dict[str, Any]:
    """Train as ``cfg`` (configs/train.yaml) says; returns the final metrics (rank 0).

    Raises:
        ValueError: bad data path, bad config, or a resume that does not match the run.
    """
    ddp, device = setup_distributed()
    try:
        return _train(cfg, ddp, device)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def _train(cfg: Any, ddp: Dist, device: torch.device) -> dict[str, Any]:
    out = Path(cfg.output_dir)
    ckpt_dir = out / "checkpoints"
    if not Path(cfg.data).is_dir():
        raise ValueError(f"dataset {cfg.data!r} does not exist")
    if cfg.steps < 1 or cfg.batch_size < 1 or cfg.checkpoint_every < 1:
        raise ValueError("steps, batch_size and checkpoint_every must be >= 1")
    resume = None
    if (ckpt_dir / LAST).exists():
        if not cfg.resume:
            raise ValueError(f"{ckpt_dir / LAST} exists: pass resume=true or a new output_dir")
        resume = load_checkpoint(ckpt_dir / LAST, with_training_state=True)

    try:
        store = EpisodeStore.open(cfg.data)
    except FileNotFoundError as error:  # a folder that is not a dataset: a user error
        raise ValueError(str(error)) from None
    train_ids, val_ids = split_episodes(
        store, cfg.val_fraction, cfg.seed, split="train", group_field="seed"
    )
    if not train_ids:
        raise ValueError(f"dataset {cfg.data!r} has no train episodes")
    size = (cfg.image_size, cfg.image_size)
    cache = int(cfg.get("cache_episodes", 8))
    kwargs = dict(history=cfg.history, image_size=size, cache_episodes=cache)
    train_set = FrameDataset(store, train_ids, **kwargs)
    val_set = FrameDataset(store, val_ids, **kwargs)
    norm = (
        NormStats.from_dict(resume.norm_stats)
        if resume is not None
        else NormStats.from_actions(train_actions(store, train_ids))
    )
    overrides = cfg.get("model") or {}
    if OmegaConf.is_config(overrides):
        overrides = OmegaConf.to_container(overrides)
    model_config = RT1Config.from_dict(
        {
            "image_size": cfg.image_size,
            "history": cfg.history,
            "n_cameras": len(store.cameras),
            "state_dim": store.state_dim,
            # null entries in the config mean "RT1Config default"
            **{k: v for k, v in overrides.items() if v is not None},
        }
    )
    tokenizer = ActionTokenizer(norm, n_bins=model_config.n_bins)
    text = embed_instructions(store, device)

    # Seed right before building the model: same seed, same initial weights and dropout.
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model = RT1(model_config).to(device)
    optimizer = make_optimizer(model, cfg.lr, cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, cfg.warmup_steps, cfg.get("lr_decay_steps") or cfg.steps)
    )
    step, best_val = 0, math.inf
    if resume is not None:
        if resume.config.get("model") != model_config.to_dict():
            raise ValueError("resume: the checkpoint's model config differs from this config")
        model.load_state_dict(resume.model_state)
        state = resume.training_state
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, best_val = int(state["step"]), float(state["best_val_loss"])
        set_rng_states(state["rng"])
    raw_model = model
    if ddp.world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )

    sampler = DistributedSampler(
        train_set, ddp.world_size, ddp.rank, shuffle=True, seed=cfg.seed, drop_last=True
    )
    batches = train_batches(
        AugmentedFrames(train_set), sampler, cfg.batch_size, cfg.seed, cfg.num_workers, step
    )
    val_loader = DataLoader(
        val_set, batch_size=cfg.batch_size, collate_fn=collate, num_workers=cfg.num_workers
    )

    ckpt_config = {
        "policy": "rt1",
        "model": model_config.to_dict(),
        "language_model": DEFAULT_ENCODER,
        "camera_names": list(store.cameras),
    }

    def save(name: str, val_loss: float | None) -> Path:
        training_state = {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "best_val_loss": best_val,
            "rng": rng_states(),
        }
        return save_checkpoint(
            ckpt_dir / name,
            model_state=raw_model.state_dict(),
            config=ckpt_config,
            norm_stats=norm.to_dict(),
            model_card=model_card(cfg, model_config, raw_model.num_params(), step, val_loss),
            training_state=training_state,
        )

    writer = csv_file = csv_writer = None
    if ddp.main:
        out.mkdir(parents=True, exist_ok=True)
        csv_file, csv_writer = open_metrics_csv(out / "metrics.csv", step if resume else None)
        # purge_step drops TensorBoard events a killed run logged after the checkpoint
        writer = SummaryWriter(str(out / "tb"), purge_step=step + 1 if resume else None)
        print(
            f"train: {len(train_ids)} episodes / {len(train_set)} steps, "
            f"val: {len(val_ids)} episodes / {len(val_set)} steps; "
            f"{raw_model.num_params():,} params on {device}"
            + (f"; resumed at step {step}" if resume else "")
        )

    def log(row: dict[str, float]) -> None:
        csv_writer.writerow({"step": step, **row})
        csv_file.flush()
        for key, value in row.items():
            group = "acc_per_dim/" if "_acc_" in key else ""
            writer.add_scalar(group + key.replace("_", "/", 1), value, step)

    model.train()
    log_every = max(1, int(cfg.log_every))
    window: list[tuple[float, torch.Tensor]] = []
    last: dict[str, Any] = {}
    postfix: dict[str, str] = {}
    tick, samples = time.perf_counter(), 0
    bar = tqdm(
        total=cfg.steps, initial=step, desc="train", unit="step", disable=not ddp.main or None
    )
    while step < cfg.steps:
        batch = next(batches)
        images, text_emb, state, tokens = to_model_inputs(batch, text, tokenizer, device)
        logits = model(images, text_emb, state)
        loss = raw_model.loss(logits, tokens)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        scheduler.step()
        step += 1
        samples += tokens.shape[0]
        window.append((loss.item(), raw_model.token_accuracy(logits.detach(), tokens).cpu()))
        bar.update(1)
        if not ddp.main:
            continue

        row: dict[str, float] = {}
        if step % log_every == 0 or step == cfg.steps:
            acc = torch.stack([a for _, a in window]).mean(0).numpy()
            row |= {
                "lr": scheduler.get_last_lr()[0],
                "samples_per_s": samples / (time.perf_counter() - tick),
                "train_loss": float(np.mean([v for v, _ in window])),
                "train_acc": float(acc.mean()),
                **{f"train_acc_{n}": float(a) for n, a in zip(ACTION_NAMES, acc, strict=True)},
            }
            window.clear()
            tick, samples = time.perf_counter(), 0
            postfix |= {"loss": f"{row['train_loss']:.3f}", "acc": f"{row['train_acc']:.3f}"}
        checkpoint_now = step % cfg.checkpoint_every == 0 or step == cfg.steps
        val_loss = None
        if checkpoint_now and len(val_set):
            val_loss, val_acc = validate(raw_model, val_loader, text, tokenizer, device)
            row |= {
                "val_loss": val_loss,
                "val_acc": float(val_acc.mean()),
                **{f"val_acc_{n}": float(a) for n, a in zip(ACTION_NAMES, val_acc, strict=True)},
            }
            postfix["val_loss"] = f"{val_loss:.3f}"
        if checkpoint_now:
            # best before last: a kill in between only costs redoing this interval
            if val_loss is not None and val_loss < best_val:
                best_val = val_loss
                save(BEST, val_loss)
            save(LAST, val_loss)
        if cfg.eval_every and step % cfg.eval_every == 0:
            directory = ckpt_dir / LAST if checkpoint_now else save("sim_eval", None)
            row["sim_success"] = sim_success(directory, cfg.eval_episodes, cfg.seed)
        if row:
            bar.set_postfix(postfix, refresh=False)
            log(row)
            last |= row
    bar.close()
    if ddp.main:
        if not (ckpt_dir / BEST).exists():  # no val split: the last weights are the best known
            save(BEST, None)
        writer.close()
        csv_file.close()
    return {"step": step, **last}
