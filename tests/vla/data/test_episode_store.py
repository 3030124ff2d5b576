"""EpisodeStore: round trips, resume keys, crash recovery (simulated and a real kill -9), locks."""

import inspect
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from vla.data import DatasetLockedError, EpisodeBuffer, EpisodeStore

H, W = 8, 12  # H != W so a swapped axis cannot pass
REPO = Path(__file__).resolve().parents[3]


def make_arrays(index, height=8, width=12):
    """Deterministic synthetic episode ``index`` (3 to 6 steps); used by the killed writer too."""
    rng = np.random.default_rng(index)
    steps = 3 + index % 4
    return {
        "front": rng.integers(0, 256, (steps, height, width, 3), dtype=np.uint8),
        "wrist": rng.integers(0, 256, (steps, height, width, 3), dtype=np.uint8),
        "state": rng.standard_normal((steps, 10)).astype(np.float32),
        "action": rng.standard_normal((steps, 11)).astype(np.float32),
    }


def fields(index, split="train"):
    return dict(
        key=(split, "pick", index),
        instruction=f"pick up the block {index}",
        task="tidy the table",
        family="pick_place",
        skill="pick" if index % 2 else "place",
        scene="kitchen",
        seed=index,
        split=split,
        success=True,
        meta={"attempt": index, "note": "ünïcode"},
    )


def new_store(path):
    return EpisodeStore.open_or_create(path, image_size=(H, W))


def write_episodes(path, indices, split="train"):
    with new_store(path) as store:
        return [store.add_episode(make_arrays(i), **fields(i, split)) for i in indices]


def assert_episode_equal(store, episode_id, index):
    loaded = store.load_episode(episode_id)
    expected = make_arrays(index)
    assert loaded.keys() == expected.keys()
    for name, array in expected.items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)


def test_episodes_read_back_identical(tmp_path):
    ids = write_episodes(tmp_path, range(4))
    write_episodes(tmp_path, [4], split="test")
    store = EpisodeStore.open(tmp_path)
    assert ids == [0, 1, 2, 3] and len(store) == 5
    for episode_id in range(5):
        assert_episode_equal(store, episode_id, episode_id)
    record = store.record(2)
    assert record["key"] == "train/pick/2" and record["n_steps"] == 5
    assert record["file"] == "episodes/ep_000002.npz" and record["meta"]["note"] == "ünïcode"
    assert [r["episode_id"] for r in store.episodes("test")] == [4]
    summary = store.summary()
    assert summary["episodes"] == 5 and summary["steps"] == 3 + 4 + 5 + 6 + 3
    assert summary["by_split"] == {"train": 4, "test": 1}
    assert summary["by_skill"] == {"place": 3, "pick": 2}
    header = json.loads((tmp_path / "dataset.json").read_text())
    assert header["cameras"] == ["front", "wrist"] and header["image_size"] == [H, W]
    assert header["format"] == "vla-episodes" and header["version"] == 1


def test_steps_list_and_buffer_give_the_same_episode(tmp_path):
    arrays = make_arrays(7)
    steps = [
        {
            "images": {"front": arrays["front"][t], "wrist": arrays["wrist"][t]},
            "state": arrays["state"][t].astype(np.float64),  # the buffer converts to float32
            "action": arrays["action"][t],
        }
        for t in range(len(arrays["action"]))
    ]
    buffer = EpisodeBuffer()
    for step in steps:
        buffer.add(step["images"], step["state"], step["action"])
    with new_store(tmp_path) as store:
        store.add_episode(steps, **fields(7))
        store.add_episode(buffer.to_arrays(), **{**fields(7), "key": "other"})
        for episode_id in (0, 1):
            assert_episode_equal(store, episode_id, 7)
    buffer.clear()
    with pytest.raises(ValueError, match="no steps"):
        buffer.to_arrays()


def test_resume_reports_the_same_done_keys(tmp_path):
    write_episodes(tmp_path, range(3))
    with new_store(tmp_path) as store:
        store.mark_done("train/failed-task/9", meta={"reason": "expert failed"})
        done = store.done_keys()
    store = new_store(tmp_path)
    assert (
        store.done_keys()
        == done
        == {"train/pick/0", "train/pick/1", "train/pick/2"} | {"train/failed-task/9"}
    )
    assert store.has(("train", "pick", 1)) and store.has("train/pick/1")
    assert not store.has(("train", "pick", 3))
    assert len(store) == 3 and store.summary()["markers"] == 1  # markers are not episodes
    with pytest.raises(ValueError, match="already"):
        store.add_episode(make_arrays(1), **fields(1))
    assert store.add_episode(make_arrays(3), **fields(3)) == 3


def test_crash_leftovers_are_ignored_then_cleaned(tmp_path):
    write_episodes(tmp_path, range(2))
    episodes = tmp_path / "episodes"
    stale_tmp = episodes / "ep_000002.npz.tmp-4242"
    stale_tmp.write_bytes(b"half an npz")
    orphan = episodes / "ep_000002.npz"  # renamed into place, then killed before indexing
    shutil.copy(episodes / "ep_000001.npz", orphan)
    header_tmp = tmp_path / "dataset.json.tmp-4242"
    header_tmp.write_text("{")
    index = tmp_path / "index.jsonl"
    with open(index, "ab") as handle:
        handle.write(b'{"kind": "episode", "episode_id": 2, "file": "episodes/ep_0000')

    reader = EpisodeStore.open(tmp_path)  # readers ignore the debris and touch nothing
    assert reader.episode_ids() == [0, 1] and stale_tmp.exists() and orphan.exists()

    store = new_store(tmp_path)
    assert store.episode_ids() == [0, 1]
    assert not stale_tmp.exists() and not orphan.exists() and not header_tmp.exists()
    assert index.read_bytes().endswith(b"\n") and len(index.read_bytes().splitlines()) == 2
    assert store.add_episode(make_arrays(2), **fields(2)) == 2
    store.close()
    reopened = EpisodeStore.open(tmp_path)
    assert reopened.episode_ids() == [0, 1, 2]
    for episode_id in range(3):
        assert_episode_equal(reopened, episode_id, episode_id)


def test_damaged_committed_line_is_an_error_not_silent_loss(tmp_path):
    write_episodes(tmp_path, range(2))
    index = tmp_path / "index.jsonl"
    lines = index.read_bytes().splitlines(keepends=True)
    index.write_bytes(b"{garbage\n" + lines[1])
    with pytest.raises(ValueError, match="line 1 is damaged"):
        EpisodeStore.open(tmp_path)


def test_damaged_episode_file_fails_loudly(tmp_path):
    write_episodes(tmp_path, range(1))
    file = tmp_path / "episodes" / "ep_000000.npz"
    file.write_bytes(file.read_bytes()[:100])
    with pytest.raises(ValueError, match="episode 0 .* unreadable"):
        EpisodeStore.open(tmp_path).load_episode(0)


WRITER_LOOP = """
import signal
import sys
from vla.data import EpisodeStore

# a shell that starts us in the background (nohup, CI runners) may have set SIGINT to
# "ignore", and Python then installs no KeyboardInterrupt handler: restore Ctrl-C
signal.signal(signal.SIGINT, signal.default_int_handler)

store = EpisodeStore.open_or_create(sys.argv[1], image_size=(64, 64))
for index in range(len(store), 10_000):
    arrays = make_arrays(index, 64, 64)
    print("writing", index, flush=True)
    store.add_episode(arrays, key=f"ep{index}", instruction=f"do {index}", split="train")
"""


def start_writer(tmp_path):
    """A subprocess recording synthetic 64x64 episodes forever into tmp_path/data."""
    script = tmp_path / "writer.py"
    script.write_text("import numpy as np\n" + inspect.getsource(make_arrays) + WRITER_LOOP)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    started = [proc.stdout.readline().split() for _ in range(5)]
    assert started[-1] == ["writing", "4"]
    return proc


def stop_writer(proc, signum, delay):
    time.sleep(delay)
    os.kill(proc.pid, signum)
    proc.wait()  # reap it, or its pid would still look alive to the lock check
    proc.stdout.close()


def assert_intact(data):
    """Every indexed episode loads and matches; returns the writable store."""
    store = EpisodeStore.open_or_create(data, image_size=(64, 64))  # takes over a dead lock
    n = len(store)
    assert n >= 4 and store.done_keys() == {f"ep{i}" for i in range(n)}
    assert sorted(os.listdir(data / "episodes")) == [f"ep_{i:06d}.npz" for i in range(n)]
    for episode_id in range(n):
        loaded = store.load_episode(episode_id)  # validates shapes, dtypes, CRCs
        for name, array in make_arrays(episode_id, 64, 64).items():
            np.testing.assert_array_equal(loaded[name], array)
    return store


@pytest.mark.parametrize("delay", [0.0, 0.002, 0.01])  # before, inside, after writing the npz
def test_real_kill_loses_no_finished_episode(tmp_path, delay):
    stop_writer(start_writer(tmp_path), signal.SIGKILL, delay)
    assert (tmp_path / "data" / "writer.lock").exists()  # kill -9 leaves a stale lock
    store = assert_intact(tmp_path / "data")
    n = len(store)
    assert store.add_episode(make_arrays(n, 64, 64), key=f"ep{n}", instruction="", split="train")
    store.close()
    assert len(EpisodeStore.open(tmp_path / "data")) == n + 1


def test_ctrl_c_releases_the_lock_and_keeps_episodes(tmp_path):
    stop_writer(start_writer(tmp_path), signal.SIGINT, 0.002)
    assert not (tmp_path / "data" / "writer.lock").exists()
    assert not [p for p in (tmp_path / "data" / "episodes").iterdir() if ".tmp-" in p.name]
    assert_intact(tmp_path / "data").close()


def test_mismatched_dataset_settings_are_refused(tmp_path):
    write_episodes(tmp_path, range(1))
    with pytest.raises(ValueError, match=r"image_size \[8, 12\] \(asked for \[16, 16\]\).*another"):
        EpisodeStore.open_or_create(tmp_path, image_size=(16, 16))
    with pytest.raises(ValueError, match="state_dim 10 .*asked for 7"):
        EpisodeStore.open_or_create(tmp_path, image_size=(H, W), state_dim=7)
    with pytest.raises(ValueError, match="cameras"):
        EpisodeStore.open_or_create(tmp_path, image_size=(H, W), cameras=("front",))
    with new_store(tmp_path) as store:  # the refusals released the lock
        assert len(store) == 1
    with pytest.raises(FileExistsError):
        EpisodeStore.create(tmp_path, image_size=(H, W))
    with pytest.raises(FileNotFoundError):
        EpisodeStore.open(tmp_path / "missing")


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda a: a.update(front=a["front"].astype(np.float32)), "front"),
        (lambda a: a.update(wrist=a["wrist"][:, :, :6]), "wrist"),
        (lambda a: a.update(state=a["state"][:, :9]), "state"),
        (lambda a: a.update(action=a["action"][:-1]), "action"),
        (lambda a: a.pop("wrist"), "wrist"),
        (lambda a: a.update(depth=a["front"]), "depth"),
        (lambda a: a["action"].__setitem__((1, 3), np.nan), "action is NaN or inf at step 1"),
        (lambda a: a.update({n: v[:0] for n, v in a.items()}), "no steps"),
    ],
)
def test_bad_arrays_are_refused_naming_the_field(tmp_path, change, field):
    arrays = make_arrays(0)
    change(arrays)
    with new_store(tmp_path) as store:
        with pytest.raises(ValueError, match=field):
            store.add_episode(arrays, **fields(0))
        assert len(store) == 0
    assert not list((tmp_path / "episodes").iterdir())


@pytest.mark.parametrize(
    "override, field",
    [
        ({"split": "training"}, "split"),
        ({"instruction": None}, "instruction"),
        ({"seed": 1.5}, "seed"),
        ({"success": "yes"}, "success"),
        ({"meta": {"x": float("nan")}}, "meta"),
        ({"meta": {"x": object()}}, "meta"),
        ({"key": ""}, "key"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(tmp_path, override, field):
    with new_store(tmp_path) as store:
        with pytest.raises(ValueError, match=field):
            store.add_episode(make_arrays(0), **{**fields(0), **override})
        assert len(store) == 0 and not store.done_keys()
    assert not (tmp_path / "index.jsonl").exists()


def test_second_writer_is_refused_while_the_first_lives(tmp_path):
    first = new_store(tmp_path)
    with pytest.raises(DatasetLockedError, match=f"pid {os.getpid()}"):
        new_store(tmp_path)
    assert len(EpisodeStore.open(tmp_path)) == 0  # readers need no lock
    with pytest.raises(PermissionError, match="read-only"):
        EpisodeStore.open(tmp_path).add_episode(make_arrays(0), **fields(0))
    first.close()
    assert not (tmp_path / "writer.lock").exists()
    with pytest.raises(PermissionError):
        first.add_episode(make_arrays(0), **fields(0))
    with EpisodeStore.open(tmp_path, writable=True) as second:
        assert second.add_episode(make_arrays(0), **fields(0)) == 0


def test_stale_lock_of_a_dead_writer_is_taken_over(tmp_path):
    write_episodes(tmp_path, range(1))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / "writer.lock"
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    with new_store(tmp_path) as store:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        assert store.add_episode(make_arrays(1), **fields(1)) == 1
    lock.write_text("")  # a writer killed while creating its lock
    with new_store(tmp_path) as store:
        assert len(store) == 2
