"""Training data for vla-train: reproducible augmented batches and model inputs.

The batch order and each sample's augmentation are pure functions of (seed, epoch, rank,
position), not of an RNG stream, so a resumed run sees exactly the batches it would have.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from vla.data.episode_store import EpisodeStore
from vla.data.torch_dataset import FrameDataset, augment_frames, collate
from vla.language import DEFAULT_ENCODER, SentenceEncoder
from vla.tokenizer import ActionTokenizer


class AugmentedFrames(Dataset):
    """Wraps a FrameDataset: item ``(index, aug_seed)`` gets augmentation drawn from its own
    generator, so a sample's augmentation does not depend on workers or on resuming."""

    def __init__(self, frames: FrameDataset) -> None:
        self.frames = frames

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Any]:
        index, aug_seed = key
        item = self.frames[index]
        item["images"] = augment_frames(item["images"], torch.Generator().manual_seed(aug_seed))
        return item


def epoch_batches(
    sampler: DistributedSampler, epoch: int, batch_size: int, seed: int
) -> list[list[tuple[int, int]]]:
    """This rank's batches of epoch ``epoch`` as lists of (index, aug_seed); the last partial
    batch is dropped so every step sees ``batch_size`` samples."""
    sampler.set_epoch(epoch)
    indices = list(sampler)
    n = len(indices) // batch_size
    # a distinct, reproducible augmentation seed per (seed, epoch, rank, position)
    base = (seed * 1_000_003 + epoch) * 1_000_003 + sampler.rank * 100_000_007
    keys = [(i, (base + p) % 2**63) for p, i in enumerate(indices[: n * batch_size])]
    return [keys[b * batch_size : (b + 1) * batch_size] for b in range(n)]


def train_batches(
    dataset: Dataset,
    sampler: DistributedSampler,
    batch_size: int,
    seed: int,
    num_workers: int,
    start_step: int,
    collate_fn: Callable[[list], Any] = collate,
) -> Iterator[dict[str, Any]]:
    """Endless batches starting at global step ``start_step`` (earlier ones are skipped by
    index, without loading any data)."""
    per_epoch = len(epoch_batches(sampler, 0, batch_size, seed))
    if per_epoch == 0:
        raise ValueError(f"train split has fewer than batch_size={batch_size} samples per rank")
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        batches = epoch_batches(sampler, epoch, batch_size, seed)[skip:]
        yield from batch_loader(dataset, batches, collate_fn, num_workers, seed)
        epoch, skip = epoch + 1, 0


def batch_loader(
    dataset: Any,
    batches: list[list[Any]],
    collate_fn: Callable[[list], Any],
    num_workers: int,
    seed: int = 0,
) -> DataLoader:
    """A loader of ``batches`` (lists of keys): item by item and collated, or, for a dataset
    that builds whole batches (``dataset.batched``, e.g.
    :class:`vla.training.cached_batches.CachedBatches`), one ``dataset[keys]`` per batch.

    The loader's own generator keeps it from drawing a worker base seed out of torch's
    global RNG (that would break resuming)."""
    generator = torch.Generator().manual_seed(seed)
    if getattr(dataset, "batched", False):
        return DataLoader(
            dataset,
            sampler=batches,
            batch_size=None,
            collate_fn=whole_batch,
            num_workers=num_workers,
            generator=generator,
            prefetch_factor=4 if num_workers else None,
        )
    return DataLoader(
        dataset,
        batch_sampler=batches,
        collate_fn=collate_fn,
        num_workers=num_workers,
        generator=generator,
    )


def whole_batch(batch: Any) -> Any:
    """The collate function of a dataset that builds whole batches itself."""
    return batch


def train_actions(store: EpisodeStore, episode_ids: list[int]) -> np.ndarray:
    """All actions (N, 11) of the given episodes, for the normalisation statistics."""
    return np.concatenate([store.load_episode(i)["action"] for i in episode_ids])


@functools.cache
def sentence_encoder() -> SentenceEncoder:
    """The frozen instruction encoder, loaded once per process (it takes seconds)."""
    return SentenceEncoder(DEFAULT_ENCODER)


def embed_instructions(store: EpisodeStore, device: torch.device) -> dict[str, torch.Tensor]:
    """Embed every distinct instruction of the dataset once (the encoder is frozen)."""
    return embed_texts(sorted({r["instruction"] for r in store.episodes(None)}), device)


def embed_texts(texts: list[str], device: torch.device) -> dict[str, torch.Tensor]:
    """``{text: embedding}`` of the frozen instruction encoder, on ``device``."""
    encoder = sentence_encoder()
    return {t: e.to(device) for t, e in zip(texts, encoder.encode(texts), strict=True)}


def to_model_inputs(
    batch: dict[str, Any],
    text: dict[str, torch.Tensor],
    tokenizer: ActionTokenizer,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(images, text_emb, state, target_tokens) on ``device``."""
    tokens = torch.from_numpy(tokenizer.encode(batch["action"].numpy()))
    return (
        batch["images"].to(device, non_blocking=True),
        torch.stack([text[s] for s in batch["instruction"]]),
        batch["state"].to(device, non_blocking=True),
        tokens.to(device),
    )


def val_batches(dataset: Any, batch_size: int) -> list[list[Any]]:
    """Every item of a validation set in order, in batches of keys (no augmentation)."""
    if getattr(dataset, "batched", False):
        return dataset.sequential(batch_size)
    indices = list(range(len(dataset)))
    return [indices[i : i + batch_size] for i in range(0, len(indices), batch_size)]
