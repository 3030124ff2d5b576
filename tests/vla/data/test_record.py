"""vla-record: a tiny dataset, killed mid-way, resumed, and read back intact."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from vla.data import EpisodeStore
from vla.data.recording import CHAIN_SEEDS, RecordConfig, record, task_seed
from vla.options import build

CONFIG = {"suites": ["single"], "episodes_per_suite": 3, "split": "train", "image_size": 32}


def test_record_writes_readable_successful_episodes(tmp_path):
    dataset = record(build(RecordConfig, {**CONFIG, "output_dir": str(tmp_path)}))
    assert len(dataset) == 3
    for rec in dataset.episodes():
        ep = dataset.load_episode(rec["episode_id"])
        assert ep["front"].shape == (rec["n_steps"], 32, 32, 3) and ep["front"].dtype == np.uint8
        assert ep["action"].shape == (rec["n_steps"], 11)
        assert ep["action"][-1, 10] == 2  # every skill ends with the terminate token
        assert rec["split"] == "train" and rec["seed"] < 1_000_000
    again = record(build(RecordConfig, {**CONFIG, "output_dir": str(tmp_path)}))
    assert len(again) == 3  # a rerun finds everything recorded and adds nothing


def test_chains_record_each_instruction_from_where_the_last_left_the_world(tmp_path):
    cfg = {**CONFIG, "suites": ["structured"], "episodes_per_suite": 2, "chain_length": 3}
    dataset = record(build(RecordConfig, {**cfg, "output_dir": str(tmp_path)}))
    rows = dataset.episodes()
    by_chain = {}
    for row in rows:
        by_chain.setdefault(row["key"].rsplit("/", 1)[0], []).append(row)
    assert sorted(by_chain) == ["train/structured/chain/0", "train/structured/chain/1"]
    block = 3  # structured's block of seeds
    for i, chain in enumerate(by_chain.values()):
        assert {r["seed"] for r in chain} == {task_seed("train", block, CHAIN_SEEDS + i)}
        instructions = list(dict.fromkeys(r["task"] for r in chain))
        assert len(instructions) == 3  # the expert completes each; the scene is never reset
        skills = [r["skill"] for r in chain]
        assert set(skills[::2]) == {"pick"} and all(s.startswith("place") for s in skills[1::2])
        assert all(r["meta"]["chain_length"] == 3 for r in chain)
        assert {(r["family"], r["meta"]["suite"]) for r in chain} == {("chain", "structured")}
    assert len(record(build(RecordConfig, {**cfg, "output_dir": str(tmp_path)}))) == len(rows)
    with pytest.raises(ValueError, match="mobile has none"):
        record(build(RecordConfig, {**cfg, "suites": ["mobile"], "output_dir": str(tmp_path)}))


def test_train_and_test_seed_ranges_are_disjoint():
    train = {task_seed("train", s, i) for s in range(7) for i in range(5000)}
    test = {task_seed("test", s, i) for s in range(7) for i in range(5000)}
    assert not train & test
    with pytest.raises(ValueError, match="split"):
        task_seed("val", 0, 0)


@pytest.mark.parametrize(
    "split,block,episode",
    [("train", 0, 100_000), ("train", 10, 0), ("train", 0, -1)]
    + [("test", 9, 100_000), ("test", 10, 0)],
)
def test_a_seed_outside_its_split_is_refused(split, block, episode):
    with pytest.raises(ValueError, match=f"outside the {split} seeds"):
        task_seed(split, block, episode)


def test_the_last_seeds_of_each_split_stay_inside_it():
    assert task_seed("train", 9, 99_999) == 999_999
    assert task_seed("test", 9, 99_999) == 1_999_999


@pytest.mark.slow
def test_killed_recording_resumes_without_losing_episodes(tmp_path):
    out = tmp_path / "demos"
    args = ["output_dir=" + str(out), "suites=[single]", "episodes_per_suite=12", "image_size=32"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vla.cli.record", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    index = out / "index.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (
        not index.exists() or len(index.read_text().splitlines()) < 6
    ):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # simulate the worst moment too: a torn index line and an orphaned temp file
    with open(index, "a") as handle:
        handle.write('{"episode_id": 99, "file": "ep_0000')
    (out / "episodes" / "ep_000099.npz.tmp-1").write_bytes(b"half")
    partial = EpisodeStore.open(out)  # a reader: sees only committed episodes
    assert 2 <= len(partial) < 12
    for rec in partial.episodes():  # everything indexed loads and is well formed
        assert partial.load_episode(rec["episode_id"])["action"].shape[0] == rec["n_steps"]
    subprocess.run(
        [sys.executable, "-m", "vla.cli.record", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    full = EpisodeStore.open(out)
    keys = [r["key"] for r in full.episodes()]
    assert len(full) == 12 and len(set(keys)) == 12
    assert json.loads((out / "dataset.json").read_text())["image_size"] == [32, 32]
    assert not list((out / "episodes").glob("*.tmp*"))


@pytest.mark.slow
def test_worker_processes_record_the_same_episodes(tmp_path):
    inline = record(build(RecordConfig, {**CONFIG, "output_dir": str(tmp_path / "a")}))
    pooled = record(
        build(RecordConfig, {**CONFIG, "output_dir": str(tmp_path / "b"), "num_workers": 2})
    )
    by_key = {r["key"]: r for r in inline.episodes()}
    assert len(pooled) == len(inline) == 3
    for rec in pooled.episodes():
        a = inline.load_episode(by_key[rec["key"]]["episode_id"])
        b = pooled.load_episode(rec["episode_id"])
        assert all(np.array_equal(a[name], b[name]) for name in ("front", "wrist", "action"))


def test_a_second_recorder_on_the_same_dataset_gets_one_line(tmp_path, capsys):
    from vla.cli.errors import run_app

    cfg = build(RecordConfig, {**CONFIG, "output_dir": str(tmp_path)})
    with EpisodeStore.open_or_create(tmp_path, image_size=(32, 32)):
        with pytest.raises(SystemExit) as exit_info:
            run_app("vla-record", record, cfg)
    message = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert message.startswith("vla-record: error: ") and "being written" in message
    assert message.count("\n") == 1
