"""FrameDataset: history padding, indexing, splits by episode, augmentation, collate."""

import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vla.data import EpisodeStore
from vla.data.torch_dataset import FrameDataset, augment_frames, collate, split_episodes

H, W = 8, 12
TRAIN_LENGTHS = (3, 5, 4)


def make_arrays(index, steps):
    rng = np.random.default_rng(100 + index)
    return {
        "front": rng.integers(0, 256, (steps, H, W, 3), dtype=np.uint8),
        "wrist": rng.integers(0, 256, (steps, H, W, 3), dtype=np.uint8),
        "state": rng.standard_normal((steps, 10)).astype(np.float32),
        "action": rng.standard_normal((steps, 11)).astype(np.float32),
    }


@pytest.fixture
def store(tmp_path):
    """Train episodes 0-2 (3, 5, 4 steps) and test episode 3 (2 steps); seeds 0, 0, 1, 9."""
    lengths = (*TRAIN_LENGTHS, 2)
    with EpisodeStore.open_or_create(tmp_path, image_size=(H, W)) as writer:
        for i, steps in enumerate(lengths):
            writer.add_episode(
                make_arrays(i, steps),
                key=f"ep{i}",
                instruction=f"skill {i}",
                split="test" if i == 3 else "train",
                seed=(0, 0, 1, 9)[i],
            )
    return EpisodeStore.open(tmp_path)


def expected_images(arrays, steps):
    """(history, n_cams, 3, H, W) uint8 straight from the arrays."""
    frames = np.stack([arrays["front"][steps], arrays["wrist"][steps]], axis=1)
    return torch.from_numpy(frames).permute(0, 1, 4, 2, 3)


def test_items_cover_every_train_step_with_padded_history(store):
    data = FrameDataset(store, "train", history=3)
    assert len(data) == sum(TRAIN_LENGTHS)
    arrays = make_arrays(1, 5)
    for t, steps in [(0, [0, 0, 0]), (1, [0, 0, 1]), (4, [2, 3, 4])]:
        item = data[3 + t]  # episode 1 starts after the 3 steps of episode 0
        assert item["episode_id"] == 1 and item["step"] == t
        assert item["instruction"] == "skill 1"
        assert item["images"].dtype == torch.uint8
        assert item["images"].shape == (3, 2, 3, H, W)
        assert torch.equal(item["images"], expected_images(arrays, steps))
        assert item["state"].dtype == torch.float32 and item["state"].shape == (3, 10)
        assert torch.equal(item["state"], torch.from_numpy(arrays["state"][steps]))
        assert torch.equal(item["action"], torch.from_numpy(arrays["action"][t]))
    last = data[-1]
    assert (last["episode_id"], last["step"]) == (2, 3)
    with pytest.raises(IndexError):
        data[len(data)]


def test_split_selection_and_explicit_ids(store):
    assert len(FrameDataset(store, "test")) == 2
    assert len(FrameDataset(store, None)) == sum(TRAIN_LENGTHS) + 2
    picked = FrameDataset(store.path, [2, 0], history=1)
    assert len(picked) == 4 + 3 and picked[0]["episode_id"] == 2 and picked[4]["episode_id"] == 0
    with pytest.raises(KeyError):
        FrameDataset(store, [7])


def test_split_episodes_is_by_episode_and_deterministic(store):
    train, val = split_episodes(store, val_fraction=0.3, seed=1)
    assert sorted(train + val) == [0, 1, 2] and not set(train) & set(val)
    assert train and val
    assert split_episodes(store.path, val_fraction=0.3, seed=1) == (train, val)
    by_seed = split_episodes(store, val_fraction=0.5, seed=3, group_field="seed")
    assert {0, 1} <= set(by_seed[0]) or {0, 1} <= set(by_seed[1])  # seed 0 stays together
    assert split_episodes(store, val_fraction=0.0) == ([0, 1, 2], [])
    with pytest.raises(ValueError, match="val_fraction"):
        split_episodes(store, val_fraction=1.0)
    train_set, val_set = FrameDataset(store, train), FrameDataset(store, val)
    seen_train = {train_set[i]["episode_id"] for i in range(len(train_set))}
    seen_val = {val_set[i]["episode_id"] for i in range(len(val_set))}
    assert seen_train == set(train) and seen_val == set(val)


def test_augmentation_keeps_dtype_shape_and_is_seeded(store):
    def first_items(seed):
        data = FrameDataset(store, augment=True, generator=torch.Generator().manual_seed(seed))
        return [data[i]["images"] for i in range(4)]

    plain = FrameDataset(store)[0]["images"]
    a, b, c = first_items(0), first_items(0), first_items(1)
    assert all(x.dtype == torch.uint8 and x.shape == plain.shape for x in a)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not all(torch.equal(x, y) for x, y in zip(a, c))
    assert not torch.equal(a[0], plain)
    # one draw per camera for all history frames: equal frames stay equal after augmenting
    assert torch.equal(a[0][0], a[0][1])


def test_augment_frames_shift_moves_content():
    frames = torch.zeros(1, 1, 3, 16, 16, dtype=torch.uint8)
    frames[..., 8, 8] = 200
    out = augment_frames(frames, torch.Generator().manual_seed(0), brightness=0, contrast=0)
    assert out.shape == frames.shape and out.dtype == torch.uint8
    assert out.sum() == frames.sum()  # a pure shift of an interior point keeps it whole
    assert not torch.equal(out, frames)  # seed 0 draws a nonzero shift


def test_resize_and_collate_through_a_dataloader(store):
    data = FrameDataset(store, history=2, image_size=(6, 10))
    batch = next(iter(DataLoader(data, batch_size=5, collate_fn=collate)))
    assert batch["images"].shape == (5, 2, 2, 3, 6, 10) and batch["images"].dtype == torch.uint8
    assert batch["state"].shape == (5, 2, 10) and batch["action"].shape == (5, 11)
    assert batch["instruction"] == ["skill 0"] * 3 + ["skill 1"] * 2
    assert batch["episode_id"].tolist() == [0, 0, 0, 1, 1]
    assert batch["step"].tolist() == [0, 1, 2, 0, 1]


def test_cache_is_bounded_and_not_pickled(store):
    data = FrameDataset(store, cache_episodes=1)
    for i in range(len(data)):
        data[i]
    assert list(data._cache) == [2]
    clone = pickle.loads(pickle.dumps(data))  # what DataLoader workers receive
    assert not clone._cache and torch.equal(clone[5]["images"], data[5]["images"])
