"""FrameCache: every step decoded once into a memory map, appended as the dataset grows,
crash leftovers cut off, shared with worker processes without copying."""

import pickle

import numpy as np
import pytest

from vla.data import EpisodeStore
from vla.data.frame_cache import FrameCache

H, W = 8, 12


def arrays(index, steps):
    rng = np.random.default_rng(index)
    return {
        "front": rng.integers(0, 256, (steps, H, W, 3), dtype=np.uint8),
        "wrist": rng.integers(0, 256, (steps, H, W, 3), dtype=np.uint8),
        "state": rng.standard_normal((steps, 10)).astype(np.float32),
        "action": rng.standard_normal((steps, 11)).astype(np.float32),
    }


def add(path, index, steps):
    with EpisodeStore.open_or_create(path, image_size=(H, W)) as writer:
        writer.add_episode(arrays(index, steps), key=f"ep{index}", instruction="x", split="train")


@pytest.fixture
def dataset(tmp_path):
    for i, steps in enumerate((3, 5)):
        add(tmp_path, i, steps)
    return tmp_path


def check_rows(cache, episode_id, index, steps):
    first, n = cache.rows_of[episode_id]
    expected = arrays(index, steps)
    frames = np.stack([expected["front"], expected["wrist"]], axis=1).transpose(0, 1, 4, 2, 3)
    assert n == steps
    assert np.array_equal(cache.frames[first : first + n], frames)
    assert np.array_equal(cache.state[first : first + n], expected["state"])
    assert np.array_equal(cache.action[first : first + n], expected["action"])


def test_cache_holds_every_step_decoded(dataset):
    store = EpisodeStore.open(dataset)
    cache = FrameCache.build(store, (H, W), progress=False)
    assert cache.frames.shape == (8, 2, 3, H, W) and cache.frames.dtype == np.uint8
    check_rows(cache, 0, 0, 3)
    check_rows(cache, 1, 1, 5)


def test_a_grown_dataset_appends_only_its_new_episodes(dataset):
    FrameCache.build(EpisodeStore.open(dataset), (H, W), progress=False)
    data_file = dataset / "cache" / f"frames-{H}x{W}.u8"
    before = data_file.read_bytes()
    add(dataset, 2, 4)
    cache = FrameCache.build(EpisodeStore.open(dataset), (H, W), progress=False)
    assert data_file.read_bytes()[: len(before)] == before  # old rows untouched
    assert cache.frames.shape[0] == 12
    check_rows(cache, 2, 2, 4)


def test_bytes_a_crash_left_past_the_last_named_row_are_cut_off(dataset):
    FrameCache.build(EpisodeStore.open(dataset), (H, W), progress=False)
    data_file = dataset / "cache" / f"frames-{H}x{W}.u8"
    with open(data_file, "ab") as handle:
        handle.write(b"\x07" * 1000)  # a torn append: rows the meta never named
    add(dataset, 2, 4)
    cache = FrameCache.build(EpisodeStore.open(dataset), (H, W), progress=False)
    assert data_file.stat().st_size == 12 * 2 * 3 * H * W
    check_rows(cache, 2, 2, 4)


def test_resized_cache_and_pickled_copies_map_the_file_again(dataset):
    cache = FrameCache.build(EpisodeStore.open(dataset), (4, 6), progress=False)
    assert cache.frames.shape == (8, 2, 3, 4, 6)
    copy = pickle.loads(pickle.dumps(cache))
    assert len(pickle.dumps(cache)) < 8 * 2 * 3 * 4 * 6 + 20000  # the frames are not pickled
    assert np.array_equal(copy.frames, cache.frames)


def test_two_runs_building_one_cache_at_once_take_turns(dataset):
    import threading

    for i in range(2, 8):
        add(dataset, i, 6)
    caches = []
    builders = [
        threading.Thread(
            target=lambda: caches.append(
                FrameCache.build(EpisodeStore.open(dataset), (H, W), progress=False)
            )
        )
        for _ in range(2)
    ]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join()
    for cache in caches:
        assert cache.frames.shape[0] == 3 + 5 + 6 * 6  # every step once, not twice
        check_rows(cache, 7, 7, 6)
