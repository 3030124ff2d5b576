"""Behaviour-cloning training of a VLA policy (RT-1 or RT-2) on an :class:`EpisodeStore`.

One flat loop in the nanoGPT spirit: split episodes into train/val, fit action NormStats on
the train split, let the policy's trainer (:mod:`vla.training.trainer`: ``rt1`` in
``vla.policies.rt1.trainer``, ``rt2`` in ``vla.policies.rt2.trainer``) build its model and
datasets, then AdamW with linear warmup + cosine decay and gradient clipping. Metrics go to a
tqdm bar, TensorBoard and ``metrics.csv``; checkpoints go to
``output_dir/checkpoints/{last,best}`` through :mod:`vla.checkpoint`.

``precision: bf16`` runs forward and loss under ``torch.autocast`` (bfloat16, fp32 master
weights; CPU with AMX or GPU); ``grad_accum_steps: N`` sums gradients of N batches of
``batch_size`` per optimizer step. A trainer may export its own checkpoint contents (the
optional ``export``/``load_weights`` hooks of :mod:`vla.training.trainer`; RT-2 LoRA keeps
only its adapters); otherwise the whole ``model.state_dict()`` is saved.

Resuming is exact on CPU (same seed): the batch order and the augmentation of every sample
are pure functions of (seed, epoch, position) rather than of an RNG stream, and the only
stream left, torch's global RNG (dropout), is saved in the checkpoint. Under ``torchrun``
(RANK/WORLD_SIZE set) the model is wrapped in DDP; ``batch_size`` is per process and only
rank 0 evaluates, logs and saves.
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from vla.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vla.data.episode_store import EpisodeStore
from vla.data.lerobot.importer import imported_for_training, is_lerobot_dataset
from vla.data.torch_dataset import split_episodes
from vla.policies.rt1 import trainer as _rt1_trainer  # noqa: F401  (registers "rt1")
from vla.policies.rt2 import trainer as _rt2_trainer  # noqa: F401  (registers "rt2")
from vla.tokenizer import ACTION_NAMES, NormStats
from vla.training.checks import sim_success, validate
from vla.training.config import TrainConfig
from vla.training.data import batch_loader, train_actions, train_batches, val_batches
from vla.training.memory import keep_freed_memory
from vla.training.output import data_record, locked_output, open_metrics_csv, run_record
from vla.training.sampling import WeightedEpochSampler, item_weights
from vla.training.setup import (
    Dist,
    lr_factor,
    make_optimizer,
    precision_note,
    rng_states,
    seed_everything,
    set_rng_states,
    setup_distributed,
)
from vla.training.trainer import TRAINERS

LAST, BEST = "last", "best"
AMP_DTYPES = {"fp32": None, "bf16": torch.bfloat16}  # precision -> autocast dtype


# --- the training run -----------------------------------------------------------------------


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train as ``cfg`` says; returns the final metrics (rank 0).

    Raises:
        ValueError: bad data path, bad config, or a resume that does not match the run.
    """
    check_config(cfg)
    keep_freed_memory()  # the step's large tensors reuse pages (vla/training/memory.py)
    ddp, device = setup_distributed()
    try:
        with locked_output(cfg.output_dir) if ddp.main else contextlib.nullcontext():
            return Run(cfg, ddp, device).loop()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def check_config(cfg: TrainConfig) -> None:
    """One-line errors for a missing dataset or a policy that cannot be trained."""
    TRAINERS.get(cfg.policy)  # one line naming the trainable policies
    if not Path(cfg.data).is_dir():
        raise ValueError(f"dataset {cfg.data!r} does not exist")


def open_store(cfg: TrainConfig, main: bool = True) -> tuple[EpisodeStore, list[int], list[int]]:
    """The dataset and its train/val episode ids (all skills of one task on one side; episodes
    without a seed, e.g. imported from LeRobot, one by one). A LeRobot v3 folder is converted
    first (by the main process; the others wait for it)."""
    data = cfg.data
    if is_lerobot_dataset(data):
        if main:
            data = imported_for_training(data, cfg.output_dir, cfg.lerobot)
        if dist.is_initialized():
            dist.barrier()
        data = Path(cfg.output_dir) / "lerobot_import"
    try:
        store = EpisodeStore.open(data)
    except FileNotFoundError as error:  # a folder that is not a dataset: a user error
        raise ValueError(str(error)) from None
    seeded = all(r["seed"] is not None for r in store.episodes("train"))
    train_ids, val_ids = split_episodes(
        store, cfg.val_fraction, cfg.seed, split="train", group_field="seed" if seeded else "key"
    )
    if not train_ids:
        raise ValueError(f"dataset {cfg.data!r} has no train episodes")
    return store, train_ids, val_ids


def find_resume(cfg: TrainConfig, ckpt_dir: Path) -> Checkpoint | None:
    """The checkpoint to continue from, if ``checkpoints/last`` exists and resume is on."""
    if not (ckpt_dir / LAST).exists():
        return None
    if not cfg.resume:
        raise ValueError(f"{ckpt_dir / LAST} exists: pass resume=true or a new output_dir")
    return load_checkpoint(ckpt_dir / LAST, with_training_state=True)


def find_init(cfg: TrainConfig) -> Checkpoint | None:
    """The policy checkpoint ``init_from`` names (weights and normalisation), if any."""
    folder = cfg.init_from
    if not folder:
        return None
    if not Path(folder).is_dir():
        raise ValueError(f"init_from={folder!r} is not a folder: give a policy checkpoint folder")
    return load_checkpoint(folder)


class Run:
    """One training run: the trainer, optimiser, logs and checkpoints of ``cfg``."""

    def __init__(self, cfg: TrainConfig, ddp: Dist, device: torch.device) -> None:
        self.cfg, self.ddp, self.device = cfg, ddp, device
        self.accum = cfg.grad_accum_steps
        self.amp_dtype = AMP_DTYPES[cfg.precision]
        self.out = Path(cfg.output_dir)
        self.ckpt_dir = self.out / "checkpoints"
        resume = find_resume(cfg, self.ckpt_dir)
        init = find_init(cfg) if resume is None else None
        store, train_ids, val_ids = open_store(cfg, ddp.main)
        start = resume or init
        self.norm = (
            NormStats.from_dict(start.norm_stats)
            if start is not None
            else NormStats.from_actions(train_actions(store, train_ids))
        )
        seed_everything(cfg.seed)
        trainer_class = TRAINERS.get(cfg.policy)
        self.trainer = trainer_class(cfg, store, (train_ids, val_ids), self.norm, device)
        self.model = self.raw_model = self.trainer.model
        self.data = data_record(cfg, store, train_ids, val_ids, self.trainer)
        self.weights = self.sample_weights(store)
        self.optimizer = make_optimizer(self.raw_model, cfg.lr, cfg.weight_decay)
        decay_steps = cfg.lr_decay_steps or cfg.steps
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, cfg.warmup_steps, decay_steps)
        )
        self.step, self.best_val = 0, math.inf
        self.resumed = resume is not None
        if resume is not None:
            self.load_resume(resume)
        elif init is not None:
            self.check_model(init, "init_from")
            self.load_weights(init.model_state)
        if ddp.world_size > 1:
            ids = [device.index] if device.type == "cuda" else None
            self.model = torch.nn.parallel.DistributedDataParallel(self.raw_model, ids)

    def sample_weights(self, store: EpisodeStore) -> np.ndarray | None:
        """Each training item's weight under ``sample_weights`` (None: uniform)."""
        cfg, train_set = self.cfg, self.trainer.train_set
        if not cfg.sample_weights:
            return None
        if not hasattr(train_set, "item_episodes"):
            raise ValueError(f"sample_weights: policy={cfg.policy} does not support it (rt1 does)")
        return item_weights(store, train_set.item_episodes, cfg.sample_weights)

    def check_model(self, ckpt: Checkpoint, what: str) -> None:
        if ckpt.config.get("model") != self.trainer.checkpoint_config["model"]:
            raise ValueError(
                f"{what}: the model config of {ckpt.path} differs from this run's "
                "(give the same policy, history, image_size and model.* options)"
            )

    def load_weights(self, state: dict[str, torch.Tensor]) -> None:
        load = getattr(self.trainer, "load_weights", None)
        load(state) if load else self.raw_model.load_state_dict(state)

    def autocast(self) -> Any:
        """bfloat16 autocast with ``precision: bf16``, else nothing."""
        enabled = self.amp_dtype is not None
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=enabled)

    def load_resume(self, resume: Checkpoint) -> None:
        self.check_model(resume, "resume")
        self.load_weights(resume.model_state)
        state = resume.training_state
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.best_val = int(state["step"]), float(state["best_val_loss"])
        set_rng_states(state["rng"])

    def save(self, name: str, val_loss: float | None) -> Path:
        training_state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "best_val_loss": self.best_val,
            "rng": rng_states(),
        }
        export = getattr(self.trainer, "export", None)
        contents = export() if export else {"model_state": self.raw_model.state_dict()}
        return save_checkpoint(
            self.ckpt_dir / name,
            **{"config": self.trainer.checkpoint_config, **contents},
            norm_stats=self.norm.to_dict(),
            model_card=self.trainer.model_card(self.cfg, self.step, val_loss),
            training_state=training_state,
            train_config=run_record(self.cfg, self.data, self.step),
        )

    def batches(self) -> Any:
        cfg, ddp, train_set = self.cfg, self.ddp, self.trainer.train_set
        if self.weights is not None:
            sampler = WeightedEpochSampler(self.weights, ddp.world_size, ddp.rank, cfg.seed)
        else:
            sampler = DistributedSampler(
                train_set, ddp.world_size, ddp.rank, True, cfg.seed, drop_last=True
            )
        return train_batches(
            train_set,
            sampler,
            cfg.batch_size,
            cfg.seed,
            cfg.num_workers,
            self.step * self.accum,  # batches are counted per micro-batch
            self.trainer.collate,
        )

    def open_logs(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        resume_step = self.step if self.resumed else None
        self.csv_file, self.csv_writer = open_metrics_csv(self.out / "metrics.csv", resume_step)
        # purge_step drops TensorBoard events a killed run logged after the checkpoint
        purge = self.step + 1 if self.resumed else None
        self.writer = SummaryWriter(str(self.out / "tb"), purge_step=purge)
        t = self.trainer
        print(
            f"train: {len(t.train_set)} samples, val: {len(t.val_set)} steps; "
            f"{sum(p.numel() for p in self.raw_model.parameters()):,} params on {self.device}"
            + (f"; resumed at step {self.step}" if self.resumed else "")
        )
        if note := precision_note(self.cfg.precision, self.device):
            print(note)

    def log(self, row: dict[str, float]) -> None:
        self.csv_writer.writerow({"step": self.step, **row})
        self.csv_file.flush()
        for key, value in row.items():
            group = "acc_per_dim/" if "_acc_" in key else ""
            self.writer.add_scalar(group + key.replace("_", "/", 1), value, self.step)

    def train_step(self, batches: Any) -> tuple[float, torch.Tensor, int]:
        """One optimizer step over ``grad_accum_steps`` batches drawn from ``batches``;
        returns (mean loss, mean accuracy (11,), samples)."""
        self.optimizer.zero_grad(set_to_none=True)
        losses, accuracies, samples = [], [], 0
        for micro in range(self.accum):
            last = micro == self.accum - 1
            # DDP: all-reduce the gradients once, after the last micro-batch
            sync = last or not isinstance(self.model, torch.nn.parallel.DistributedDataParallel)
            batch = next(batches)  # outside autocast: the batch is built in its own dtypes
            with self.autocast(), contextlib.nullcontext() if sync else self.model.no_sync():
                loss, accuracy, n = self.trainer.loss(batch, self.model)
                (loss / self.accum).backward()
            losses.append(loss.item())
            accuracies.append(accuracy)
            samples += n
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        return float(np.mean(losses)), torch.nanmean(torch.stack(accuracies), dim=0), samples

    def checkpoint(self) -> dict[str, float]:
        """Validate, then save best (if improved) and last; returns the validation row."""
        row: dict[str, float] = {}
        val_loss = None
        if len(self.trainer.val_set):
            val_loader = batch_loader(
                self.trainer.val_set,
                val_batches(self.trainer.val_set, self.cfg.batch_size),
                self.trainer.collate,
                self.cfg.num_workers,
            )
            max_batches = self.cfg.max_val_batches
            with self.autocast():
                val_loss, val_acc = validate(self.trainer, self.raw_model, val_loader, max_batches)
            row |= {"val_loss": val_loss, "val_acc": float(np.nanmean(val_acc))}
            row |= {f"val_acc_{n}": float(a) for n, a in zip(ACTION_NAMES, val_acc, strict=True)}
        # best before last: a kill in between only costs redoing this interval
        if val_loss is not None and val_loss < self.best_val:
            self.best_val = val_loss
            self.save(BEST, val_loss)
        self.save(LAST, val_loss)
        return row

    def loop(self) -> dict[str, Any]:
        cfg, ddp = self.cfg, self.ddp
        if ddp.main:
            self.open_logs()
        batches = self.batches()
        self.model.train()
        log_every = max(1, int(cfg.log_every))
        window: list[tuple[float, torch.Tensor]] = []
        last: dict[str, Any] = {}
        postfix: dict[str, str] = {}
        tick, samples = time.perf_counter(), 0
        bar = tqdm(
            total=cfg.steps,
            initial=self.step,
            desc="train",
            unit="step",
            disable=not ddp.main or None,
        )
        while self.step < cfg.steps:
            loss, accuracy, n = self.train_step(batches)
            samples += n
            window.append((loss, accuracy))
            bar.update(1)
            if not ddp.main:
                continue
            row: dict[str, float] = {}
            if self.step % log_every == 0 or self.step == cfg.steps:
                row |= self.train_row(window, samples / (time.perf_counter() - tick))
                window.clear()
                tick, samples = time.perf_counter(), 0
                postfix |= {"loss": f"{row['train_loss']:.3f}", "acc": f"{row['train_acc']:.3f}"}
            checkpoint_now = self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps
            if checkpoint_now:
                row |= self.checkpoint()
                if "val_loss" in row:
                    postfix["val_loss"] = f"{row['val_loss']:.3f}"
            if cfg.eval_every and self.step % cfg.eval_every == 0:
                directory = self.ckpt_dir / LAST if checkpoint_now else self.save("sim_eval", None)
                row["sim_success"] = sim_success(directory, cfg.eval_episodes, cfg.seed)
            if row:
                bar.set_postfix(postfix, refresh=False)
                self.log(row)
                last |= row
        bar.close()
        if ddp.main:
            if not (self.ckpt_dir / BEST).exists():  # no val split: the last weights are best known
                self.save(BEST, None)
            self.writer.close()
            self.csv_file.close()
        return {"step": self.step, **last}

    def train_row(self, window: list[tuple[float, torch.Tensor]], rate: float) -> dict[str, float]:
        """Mean loss and token accuracy over the steps since the last log row."""
        acc = torch.nanmean(torch.stack([a for _, a in window]), dim=0).numpy()
        return {
            "lr": self.scheduler.get_last_lr()[0],
            "samples_per_s": rate,
            "train_loss": float(np.mean([v for v, _ in window])),
            "train_acc": float(np.nanmean(acc)),
            **{f"train_acc_{n}": float(a) for n, a in zip(ACTION_NAMES, acc, strict=True)},
        }
