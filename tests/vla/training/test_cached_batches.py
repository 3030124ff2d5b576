"""CachedBatches: whole batches equal to FrameDataset's items, chunk labels, seeded
augmentation, and the same batches through a DataLoader worker."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vla.data import EpisodeStore
from vla.data.frame_cache import FrameCache
from vla.data.torch_dataset import FrameDataset, collate
from vla.training.cached_batches import (
    BRIGHTNESS,
    CONTRAST,
    MAX_SHIFT,
    CachedBatches,
    augment_batch,
    item_draws,
)
from vla.training.data import batch_loader

H, W = 8, 12
LENGTHS = (3, 5, 4)


@pytest.fixture
def store(tmp_path):
    with EpisodeStore.open_or_create(tmp_path, image_size=(H, W)) as writer:
        for i, steps in enumerate(LENGTHS):
            rng = np.random.default_rng(i)
            action = rng.standard_normal((steps, 11)).astype(np.float32)
            action[:, 6] = np.where(np.arange(steps) < 2, -1.0, 1.0)  # the gripper closes
            writer.add_episode(
                {
                    "front": rng.integers(0, 256, (steps, H, W, 3), dtype=np.uint8),
                    "wrist": rng.integers(0, 256, (steps, H, W, 3), dtype=np.uint8),
                    "state": rng.standard_normal((steps, 10)).astype(np.float32),
                    "action": action,
                },
                key=f"ep{i}",
                instruction=f"skill {i}",
                split="train",
            )
    return EpisodeStore.open(tmp_path)


def batches(store, history=2, chunk=1, augment=False, ids=(0, 1, 2)):
    cache = FrameCache.build(store, (H, W), progress=False)
    return CachedBatches(cache, list(ids), history, chunk, augment)


def test_a_batch_equals_the_collated_items_of_frame_dataset(store):
    reference = FrameDataset(store, [0, 1, 2], history=2)
    keys = [(i, 0) for i in (0, 4, 7, 11, 2)]
    batch = batches(store)[keys]
    expected = collate([reference[i] for i, _ in keys])
    for field in ("images", "state", "action", "goal", "goal_valid", "episode_id", "step"):
        assert torch.equal(batch[field], expected[field]), field
    assert batch["instruction"] == expected["instruction"]


def test_chunk_labels_are_the_next_actions_clipped_at_the_episode_end(store):
    data = batches(store, chunk=3)
    batch = data[[(3, 0), (7, 0)]]  # episode 1 step 0, episode 1 step 4 (its last)
    actions = store.load_episode(1)["action"]
    assert batch["action"].shape == (2, 3, 11)
    assert np.array_equal(batch["action"][0].numpy(), actions[0:3])
    assert np.array_equal(batch["action"][1].numpy(), actions[[4, 4, 4]])


def test_augmentation_is_a_function_of_the_keys(store):
    data = batches(store, augment=True)
    keys = [(i, 1234 + i) for i in range(6)]
    first, again = data[keys], data[keys]
    other = data[[(i, 99 + i) for i in range(6)]]
    assert torch.equal(first["images"], again["images"])
    assert not torch.equal(first["images"], other["images"])
    assert first["images"].dtype == torch.uint8
    plain = batches(store)[keys]["images"]
    assert not torch.equal(first["images"], plain)


def test_shift_moves_content_and_keeps_history_frames_together():
    images = torch.zeros(1, 2, 1, 3, 9, 9, dtype=torch.uint8)
    images[..., 4, 4] = 255
    for seed in range(20):
        out = augment_batch(images, [seed])
        spots = [torch.nonzero(out[0, t, 0, 0] > 200).tolist() for t in range(2)]
        assert spots[0] == spots[1] and len(spots[0]) == 1  # one shift for both frames
        y, x = spots[0][0]
        assert abs(y - 4) <= 2 and abs(x - 4) <= 2


def reference_augment(image, draws):
    """One (T*3, H, W) image the slow, obvious way: pad, cut the shifted window, then
    contrast around its mean and brightness, rounded and clamped."""
    span = 2 * MAX_SHIFT + 1
    dy, dx = int(draws[0] * span), int(draws[1] * span)
    h, w = image.shape[-2:]
    padded = F.pad(image[None].float(), (MAX_SHIFT,) * 4, mode="replicate")[0]
    window = padded[:, dy : dy + h, dx : dx + w]
    gain = 1 + CONTRAST * (2 * draws[2] - 1)
    offset = 255 * BRIGHTNESS * (2 * draws[3] - 1)
    mean = window.mean()
    return ((window - mean) * gain + mean + offset).round().clamp(0, 255)


def test_batch_augmentation_matches_the_per_image_reference():
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 256, (5, 2, 2, 3, 10, 14), dtype=np.uint8))
    seeds = [int(s) for s in rng.integers(0, 2**62, 5)]
    out = augment_batch(images, seeds)
    draws = item_draws(seeds, 2).view(5, 2, 4)
    for b in range(5):
        for n in range(2):
            want = reference_augment(images[b, :, n].reshape(6, 10, 14), draws[b, n])
            got = out[b, :, n].reshape(6, 10, 14).float()
            assert (got - want).abs().max() <= 1  # the mean's float sum order may flip a .5
            assert (got == want).float().mean() > 0.99


def test_draws_are_uniform_and_a_function_of_each_seed_alone():
    draws = item_draws(list(range(4000)), 2)
    assert draws.shape == (8000, 4) and 0 <= draws.min() and draws.max() < 1
    assert abs(draws.mean().item() - 0.5) < 0.01
    assert torch.equal(item_draws([7, 8], 2)[2:], item_draws([8], 2))
    shifts = (draws[:, 0] * (2 * MAX_SHIFT + 1)).long()
    assert set(shifts.tolist()) == set(range(2 * MAX_SHIFT + 1))


def test_a_loader_worker_gives_the_same_batches(store):
    data = batches(store, augment=True)
    keys = [[(i, 10 + i) for i in range(4)], [(i, 50 + i) for i in range(4, 8)]]
    inline = list(batch_loader(data, keys, collate, num_workers=0))
    worker = list(batch_loader(data, keys, collate, num_workers=1))
    for a, b in zip(inline, worker, strict=True):
        assert torch.equal(a["images"], b["images"]) and torch.equal(a["action"], b["action"])


def test_an_item_is_augmented_by_its_own_seed_whatever_batch_it_is_in(store):
    data = batches(store, augment=True)
    keys = [(i, 1000 + 7 * i) for i in range(6)]
    whole = data[keys]["images"]
    halves = torch.cat([data[keys[:3]]["images"], data[keys[3:]]["images"]])
    assert torch.equal(whole, halves)
    assert not torch.equal(data[[(0, 1)]]["images"], data[[(0, 2)]]["images"])
