"""LeRobotDataset v3.0 out and in: record -> export -> import gives the same actions and
states exactly and the frames within the codec's tolerance; the layout is LeRobot's; another
arm's layout maps by a config; vla-train reads a LeRobot folder; failures leave nothing."""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.contract import ACTION_NAMES
from vla.data import EpisodeStore
from vla.data.lerobot import LeRobotMapping, export_lerobot, import_lerobot, is_lerobot_dataset
from vla.data.lerobot import video as video_module
from vla.data.lerobot.importer import _dims
from vla.data.lerobot.layout import STATE_NAMES
from vla.data.lerobot.tasks import read_tasks
from vla.data.recording import RecordConfig, record

# Codec tolerance, in gray levels of uint8 RGB. H.264 yuv420p crf 18 (the default) stores
# colour at half resolution, which at 32 px blurs much of a block: the mean absolute error of
# an episode stays under 10 here (measured up to 7.0; 3.0 on average at 64 px over 300
# demos). It cannot tell a frame from its neighbour, so yuv444p crf 0 is checked too: exact
# up to the RGB <-> YUV rounding, at most 1, which catches any misplaced frame.
DEFAULT_MEAN_ABS = 10.0
LOSSLESS_MAX_ABS = 1


@pytest.fixture(scope="module")
def demos(tmp_path_factory) -> Path:
    """Real expert demos of the `single` suite at 32 px, one of them in the val split."""
    path = tmp_path_factory.mktemp("demos")
    cfg = dict(suites=["single"], image_size=32, output_dir=str(path))
    record(RecordConfig(episodes_per_suite=3, split="train", **cfg))
    return path


def pairs(source: EpisodeStore, back: EpisodeStore):
    by_key = {r["key"]: r for r in back.episodes()}
    for record_ in source.episodes():
        other = by_key[record_["key"]]
        yield (
            record_,
            other,
            source.load_episode(record_["episode_id"]),
            back.load_episode(other["episode_id"]),
        )


def test_round_trip_keeps_actions_exactly_and_frames_within_codec_tolerance(demos, tmp_path):
    out = export_lerobot(demos, tmp_path / "lerobot", episodes_per_file=2)
    back = import_lerobot(out, tmp_path / "back")
    source = EpisodeStore.open(demos)
    assert len(back) == len(source) == 3
    for a_rec, b_rec, a, b in pairs(source, back):
        np.testing.assert_array_equal(a["action"], b["action"])
        np.testing.assert_array_equal(a["state"], b["state"])
        for camera in ("front", "wrist"):
            error = np.abs(a[camera].astype(int) - b[camera].astype(int))
            assert error.mean() < DEFAULT_MEAN_ABS
        fields = ("instruction", "task", "family", "skill", "scene", "seed", "split", "success")
        assert {k: a_rec[k] for k in (*fields, "meta")} == {k: b_rec[k] for k in (*fields, "meta")}


def test_yuv444_crf0_is_lossless_but_for_rounding(demos, tmp_path):
    out = export_lerobot(demos, tmp_path / "lerobot", crf=0, pix_fmt="yuv444p")
    back = import_lerobot(out, tmp_path / "back")
    for *_, a, b in pairs(EpisodeStore.open(demos), back):
        for camera in ("front", "wrist"):
            assert np.abs(a[camera].astype(int) - b[camera].astype(int)).max() <= LOSSLESS_MAX_ABS


def test_layout_is_lerobot_v3(demos, tmp_path):
    out = export_lerobot(demos, tmp_path / "lerobot", episodes_per_file=2)
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 20
    assert (info["total_episodes"], info["robot_type"]) == (3, "mobile_panda")
    features = info["features"]
    assert features["observation.state"]["names"] == list(STATE_NAMES) and len(STATE_NAMES) == 10
    assert features["action"]["names"] == list(ACTION_NAMES) and features["action"]["shape"] == [11]
    assert features["observation.images.front"]["dtype"] == "video"
    assert features["observation.images.wrist"]["shape"] == [32, 32, 3]
    for name in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert features[name]["shape"] == [1]
    for file in ("file-000", "file-001"):  # 3 episodes at 2 per file
        assert (out / f"data/chunk-000/{file}.parquet").is_file()
        assert (out / f"meta/episodes/chunk-000/{file}.parquet").is_file()
        for camera in ("front", "wrist"):
            assert (out / f"videos/observation.images.{camera}/chunk-000/{file}.mp4").is_file()
    data = pq.read_table(out / "data/chunk-000/file-000.parquet")
    assert data.schema.field("action").type == pa.list_(pa.float32(), 11)
    assert data["index"].to_pylist() == list(range(len(data)))
    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-001.parquet").to_pylist()
    (third,) = episodes
    assert third["episode_index"] == 2 and third["dataset_from_index"] == len(data)
    assert third["videos/observation.images.front/from_timestamp"] == 0.0  # a new mp4
    assert third["dataset_to_index"] - third["dataset_from_index"] == third["length"]
    assert read_tasks(out)[0] in EpisodeStore.open(demos).episodes()[0]["instruction"]
    tasks_meta = json.loads(pq.read_schema(out / "meta/tasks.parquet").metadata[b"pandas"])
    assert tasks_meta["index_columns"] == ["task"]  # pandas restores `task` as the index
    stats = json.loads((out / "meta/stats.json").read_text())
    assert len(stats["action"]["q99"]) == 11 and stats["action"]["count"] == [info["total_frames"]]
    assert np.shape(stats["observation.images.front"]["mean"]) == (3, 1, 1)
    assert 0.0 <= np.min(stats["observation.images.front"]["min"]) <= 1.0


def test_another_arms_layout_maps_by_config(demos, tmp_path):
    out = export_lerobot(demos, tmp_path / "lerobot")
    action = [6, 0, 1, 2, -1, -1, -1, -1, -1, -1, 10]  # a permutation with zeros
    state = [0, 1, 2, -1, -1, -1, 6, -1, -1, -1]
    cameras = {"front": "observation.images.wrist", "wrist": "observation.images.front"}
    mapping = LeRobotMapping(cameras=cameras, action=action, state=state, image_size=16)
    back = import_lerobot(out, tmp_path / "mapped", mapping)
    for *_, a, b in pairs(EpisodeStore.open(demos), back):
        np.testing.assert_array_equal(b["action"][:, :4], a["action"][:, [6, 0, 1, 2]])
        assert not b["action"][:, 4:10].any() and np.array_equal(
            b["action"][:, 10], a["action"][:, 10]
        )
        np.testing.assert_array_equal(b["state"][:, 6], a["state"][:, 6])
        assert b["front"].shape[1:] == (16, 16, 3)
    seven = {"features": {"action": {"shape": [7]}}}
    with pytest.raises(
        ValueError, match=r"action has 7 dims, ours 11: map them with lerobot.action"
    ):
        _dims(seven, "action", None, 11)
    with pytest.raises(ValueError, match=r"needs 11 entries in \[-1, 6\]"):
        _dims(seven, "action", [7] * 11, 11)


def test_a_foreign_dataset_gets_default_fields(demos, tmp_path):
    out = export_lerobot(demos, tmp_path / "lerobot")
    path = out / "meta/episodes/chunk-000/file-000.parquet"
    table = pq.read_table(path)
    pq.write_table(table.select([n for n in table.column_names if not n.startswith("vla/")]), path)
    back = import_lerobot(out, tmp_path / "back")
    records = back.episodes()
    assert [r["key"] for r in records] == ["lerobot/0", "lerobot/1", "lerobot/2"]
    assert all(r["split"] == "train" and r["seed"] is None and r["success"] for r in records)
    source = EpisodeStore.open(demos).episodes()
    assert [r["instruction"] for r in records] == [r["instruction"] for r in source]


def test_bad_inputs_and_interruptions_leave_nothing(demos, tmp_path, monkeypatch):
    (tmp_path / "taken").mkdir()
    with pytest.raises(ValueError, match="exists; give a new folder"):
        export_lerobot(demos, tmp_path / "taken")
    old = tmp_path / "old"
    (old / "meta").mkdir(parents=True)
    (old / "meta/info.json").write_text(json.dumps({"codebase_version": "v2.1"}))
    assert is_lerobot_dataset(old)
    with pytest.raises(ValueError, match="LeRobot v2.1; this reader takes v3.x"):
        import_lerobot(old, tmp_path / "x")

    def interrupted(self, frames):
        raise KeyboardInterrupt

    monkeypatch.setattr(video_module.VideoWriter, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_lerobot(demos, tmp_path / "cut")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old", "taken"]


def test_vla_train_reads_a_lerobot_folder_to_the_same_val_loss(demos, tmp_path):
    from vla.options import build
    from vla.training.config import TrainConfig
    from vla.training.loop import train

    tiny = {
        "batch_size": 8,
        "steps": 6,
        "checkpoint_every": 6,
        "warmup_steps": 2,
        "image_size": 32,
        "val_fraction": 0.34,
        "model": {"cnn_channels": [8, 16], "d_model": 32, "n_layers": 1, "n_heads": 2},
    }
    lerobot = export_lerobot(demos, tmp_path / "lerobot", crf=0, pix_fmt="yuv444p")
    runs = {}
    for name, data in (("source", demos), ("lerobot", lerobot)):
        cfg = build(TrainConfig, {**tiny, "data": str(data), "output_dir": str(tmp_path / name)})
        runs[name] = train(cfg)
    assert (tmp_path / "lerobot/lerobot_import.json").is_file()
    source, imported = runs["source"]["val_loss"], runs["lerobot"]["val_loss"]
    assert source > 0 and source != imported  # both validated, on (slightly) different frames
    assert imported == pytest.approx(source, rel=0.02)  # frames differ by at most 1 level
