"""vla-train on a tiny recorded dataset: learning, checkpoints, exact resume, kill -9, errors."""

import csv
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from vla.checkpoint import load_checkpoint
from vla.data.recording import RecordConfig, record
from vla.options import build
from vla.policies import load_policy
from vla.policies.rt1.model import RT1, RT1Config
from vla.policies.rt1.scenes import RecordScenesConfig, record_scenes
from vla.training.config import TrainConfig
from vla.training.loop import train

ROOT = Path(__file__).resolve().parents[3]
TINY_MODEL = {
    "cnn_channels": [8, 16, 32],
    "d_model": 32,
    "n_layers": 2,
    "n_heads": 2,
    "tokens_per_image": 4,
}
TINY = {
    "batch_size": 8,
    "lr": 1e-3,
    "warmup_steps": 5,
    "image_size": 32,
    "val_fraction": 0.25,
    "log_every": 5,
    "model": TINY_MODEL,
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Four real expert demos of the `single` suite at 32 px (a few seconds)."""
    path = tmp_path_factory.mktemp("demos")
    record(
        RecordConfig(
            suites=["single"],
            episodes_per_suite=4,
            split="train",
            image_size=32,
            output_dir=str(path),
        )
    )
    return path


def make_cfg(data: Path, out: Path, **overrides) -> TrainConfig:
    return build(TrainConfig, {**TINY, "data": str(data), "output_dir": str(out), **overrides})


def read_metrics(out: Path) -> list[dict[str, str]]:
    with (out / "metrics.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def train_losses(rows: list[dict[str, str]]) -> dict[int, float]:
    return {int(r["step"]): float(r["train_loss"]) for r in rows if r["train_loss"]}


def test_loss_falls_and_checkpoints_load(dataset, tmp_path):
    out = tmp_path / "run"
    result = train(make_cfg(dataset, out, steps=40, checkpoint_every=20))
    assert result["step"] == 40
    losses = train_losses(read_metrics(out))
    assert sorted(losses) == list(range(5, 41, 5))
    assert losses[40] < 0.9 * losses[5], losses  # ~ln(256)=5.5 at init, falls clearly
    rows = read_metrics(out)
    assert {int(r["step"]) for r in rows if r["val_loss"]} == {20, 40}
    assert all(0 <= float(r["val_acc_mode"]) <= 1 for r in rows if r["val_loss"])
    assert list((out / "tb").glob("events.out.tfevents.*"))
    for name in ("last", "best"):
        ckpt = load_checkpoint(out / "checkpoints" / name, with_training_state=True)
        assert ckpt.config["policy"] == "rt1"
        assert ckpt.config["camera_names"] == ["front", "wrist"]
        model = RT1(RT1Config.from_dict(ckpt.config["model"]))
        model.load_state_dict(ckpt.model_state)
        assert set(ckpt.norm_stats) >= {"q01", "q99"}
        assert ckpt.training_state["step"] in (20, 40)


def test_in_training_evaluation_logs_success_on_validation_seeds(dataset, tmp_path):
    out = tmp_path / "run"
    train(make_cfg(dataset, out, steps=10, checkpoint_every=10, eval_every=10, eval_episodes=1))
    rows = [r for r in read_metrics(out) if r["sim_success"]]
    assert [int(r["step"]) for r in rows] == [10]
    assert 0.0 <= float(rows[0]["sim_success"]) <= 1.0
    info = json.loads((out / "sim_eval" / "eval_info.json").read_text())
    assert info["config"]["seed"] == 2_000_000 and info["config"]["seed_range"] == "validation"
    assert info["config"]["policy"] == str(out / "checkpoints" / "last")


def test_state_free_single_frame_policy_trains_and_acts(dataset, tmp_path):
    """model.state_dim=0 history=1: images + text only (no copycat channel), end to end."""
    out = tmp_path / "vis"
    model = {**TINY_MODEL, "state_dim": 0}
    train(make_cfg(dataset, out, steps=10, checkpoint_every=10, history=1, model=model))
    policy = load_policy(str(out / "checkpoints" / "last"))
    assert (policy.config.state_dim, policy.config.history) == (0, 1)
    images = {n: np.zeros((32, 32, 3), np.uint8) for n in ("front", "wrist")}
    obs = {"images": images, "state": np.full(10, np.nan, np.float32), "instruction": "done"}
    action = policy.select_action(obs)  # the state is not read, so NaN there is harmless
    assert action.shape == (11,) and np.isfinite(action).all()


def test_resume_equals_uninterrupted_run(dataset, tmp_path, capsys):
    full, split = tmp_path / "full", tmp_path / "split"
    train(make_cfg(dataset, full, steps=30, checkpoint_every=10))
    # the first leg stops at 20 but keeps the 30-step schedule, as a run killed at 20 would
    train(make_cfg(dataset, split, steps=20, lr_decay_steps=30, checkpoint_every=10))
    # rows a killed run might have logged after its last checkpoint must not survive
    with (split / "metrics.csv").open("a", newline="") as f:
        f.write("25" + "," * (len(read_metrics(split)[0]) - 1) + "\n")
    capsys.readouterr()
    train(make_cfg(dataset, split, steps=30, checkpoint_every=10, resume=True))
    assert "resumed at step 20" in capsys.readouterr().out

    # Batch order, augmentation (pure functions of seed/epoch/position) and the dropout RNG
    # (saved in the checkpoint) are all restored, so on CPU the runs are bitwise equal.
    a = load_checkpoint(full / "checkpoints" / "last").model_state
    b = load_checkpoint(split / "checkpoints" / "last").model_state
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows_full, rows_split = read_metrics(full), read_metrics(split)
    steps = [int(r["step"]) for r in rows_split]
    assert steps == sorted(set(steps)) == [5, 10, 15, 20, 25, 30]
    assert train_losses(rows_full) == train_losses(rows_split)
    assert [r["val_loss"] for r in rows_full] == [r["val_loss"] for r in rows_split]


@pytest.mark.slow
def test_kill_9_then_resume(dataset, tmp_path):
    out = tmp_path / "killed"
    args = [f"{k}={v}" for k, v in TINY.items() if k != "model"]
    args += [f"model.{k}={v}".replace(" ", "") for k, v in TINY_MODEL.items()]
    args += [f"data={dataset}", f"output_dir={out}", "steps=100000", "checkpoint_every=5"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vla.cli.train", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        last = out / "checkpoints" / "last" / "training_state.pt"
        while not last.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        time.sleep(1.0)  # let it get past the checkpoint, mid-interval
        assert last.exists(), "no checkpoint before the deadline"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    saved = load_checkpoint(out / "checkpoints" / "last", with_training_state=True)
    step = saved.training_state["step"]
    assert step >= 5 and step % 5 == 0
    result = train(make_cfg(dataset, out, steps=step + 10, checkpoint_every=5, resume=True))
    assert result["step"] == step + 10
    steps = [int(r["step"]) for r in read_metrics(out)]
    assert steps == sorted(set(steps)) and steps[-1] == step + 10
    assert steps == list(range(5, step + 11, 5))


def test_bad_data_path_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    from vla.cli.train import main

    out = tmp_path / "out"
    argv = ["vla-train", f"data={tmp_path / 'missing'}", f"output_dir={out}"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exc:
        main()
    message = capsys.readouterr().err
    assert exc.value.code == 2
    assert message.startswith("vla-train: error:") and "missing" in message
    assert message.count("\n") == 1


def test_goal_head_trains_and_the_policy_acts(dataset, tmp_path):
    """model.goal_head=true: the auxiliary goal loss is learned along with the actions."""
    out = tmp_path / "goal"
    model = {**TINY_MODEL, "goal_head": True, "spatial_coords": True}
    train(make_cfg(dataset, out, steps=40, checkpoint_every=40, model=model))
    losses = train_losses(read_metrics(out))
    assert losses[40] < 0.9 * losses[5], losses
    policy = load_policy(str(out / "checkpoints" / "last"))
    assert policy.config.goal_head
    images = {n: np.zeros((32, 32, 3), np.uint8) for n in ("front", "wrist")}
    obs = {"images": images, "state": np.zeros(10, np.float32), "instruction": "done"}
    assert policy.select_action(obs).shape == (11,)


def tiny_scenes(folder: Path, n_scenes: int) -> Path:
    """Localisation scenes at 32 px, in shards of 4."""
    cfg = {"output_dir": str(folder), "n_scenes": n_scenes, "shard_size": 4, "image_size": 32}
    return record_scenes(RecordScenesConfig(**cfg))


def test_scenes_co_train_the_goal_head(dataset, tmp_path):
    """scenes=DIR adds the goal head's error on localisation scenes to every batch."""
    scenes = tiny_scenes(tmp_path / "scenes", n_scenes=8)
    model = {**TINY_MODEL, "goal_head": True}
    runs = {}
    for name, extra in (("plain", {}), ("scenes", {"scenes": str(scenes)})):
        out = tmp_path / name
        train(make_cfg(dataset, out, steps=30, checkpoint_every=30, model=model, **extra))
        runs[name] = train_losses(read_metrics(out))
    assert runs["scenes"][30] < 0.9 * runs["scenes"][5], runs
    assert runs["scenes"][5] != runs["plain"][5]  # the scene loss is in the objective
    assert load_policy(str(tmp_path / "scenes" / "checkpoints" / "last")).config.goal_head
    with pytest.raises(ValueError, match="goal_head"):
        train(make_cfg(dataset, tmp_path / "x", steps=1, scenes=str(scenes)))
    with pytest.raises(ValueError, match="image_size=64"):
        train(
            make_cfg(
                dataset, tmp_path / "y", steps=1, scenes=str(scenes), image_size=64, model=model
            )
        )


def test_init_from_starts_from_a_checkpoint_and_scenes_take_a_list(dataset, tmp_path):
    """init_from=DIR: a new run from a policy's weights and normalisation (fine-tuning);
    scenes=[DIR, DIR]: several scene sets, joined."""
    scenes = tiny_scenes(tmp_path / "scenes", n_scenes=4)
    model = {**TINY_MODEL, "goal_head": True}
    base = tmp_path / "base" / "checkpoints" / "last"
    train(make_cfg(dataset, tmp_path / "base", steps=20, checkpoint_every=20, model=model))
    tuned = tmp_path / "tuned"
    scene_list = [str(scenes), str(scenes)]
    cfg = make_cfg(dataset, tuned, steps=10, checkpoint_every=10, model=model, lr=1e-12)
    train(dataclasses.replace(cfg, init_from=str(base), scenes=scene_list))
    start, end = load_checkpoint(base), load_checkpoint(tuned / "checkpoints" / "last")
    assert end.norm_stats == start.norm_stats
    for name, tensor in start.model_state.items():  # lr ~0: still the weights it started from
        torch.testing.assert_close(end.model_state[name], tensor, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="model config of"):
        train(make_cfg(dataset, tmp_path / "x", steps=1, init_from=str(base)))
    with pytest.raises(ValueError, match="init_from='nowhere' is not a folder"):
        train(make_cfg(dataset, tmp_path / "y", steps=1, init_from="nowhere"))


def test_the_app_leaves_its_config_in_every_checkpoint_and_hydra_record(
    dataset, tmp_path, monkeypatch
):
    from vla.cli.train import main

    out = tmp_path / "cli"
    args = [f"{k}={v}" for k, v in TINY.items() if k != "model"]
    args += [f"model.{k}={v}".replace(" ", "") for k, v in TINY_MODEL.items()]
    args += [f"data={dataset}", f"output_dir={out}", "steps=4", "checkpoint_every=4"]
    monkeypatch.setattr(sys, "argv", ["vla-train", *args])
    main()
    for name in ("last", "best"):
        record = json.loads((out / "checkpoints" / name / "train_config.json").read_text())
        config, data = record["config"], record["data"]
        assert config["steps"] == 4 and config["model"]["d_model"] == 32
        assert config["cache_episodes"] == 20_000 and config["policy"] == "rt1"  # defaults too
        assert record["step"] == 4 and "steps=4" in record["command"]
        assert data["dataset"] == str(dataset.resolve()) and data["dataset_episodes"] == 4
        assert data["train_episodes"] + data["val_episodes"] == 4 and data["train_samples"] > 0
    (overrides,) = out.glob(".hydra_runs/*/.hydra/overrides.yaml")
    assert "steps=4" in overrides.read_text()
    assert (overrides.parent / "config.yaml").is_file()


def test_one_run_per_output_dir_and_stale_leftovers_are_cleaned(dataset, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = {"pid": holder.pid, "host": socket.gethostname()}
        (out / ".train.lock").write_text(json.dumps(lock))
        with pytest.raises(ValueError, match=f"being written by pid {holder.pid}"):
            train(make_cfg(dataset, out, steps=1))
        assert not (out / "checkpoints").exists()
    finally:
        holder.kill()
        holder.wait()
    # its holder is dead: the lock is stale and taken over; a crash's temp checkpoint goes
    stale = out / "checkpoints" / ".last.tmp-1-deadbeef"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half")
    train(make_cfg(dataset, out, steps=2, checkpoint_every=2))
    assert not stale.exists() and (out / "checkpoints" / "last" / "train_config.json").is_file()
    assert not (out / ".train.lock").exists()


def test_gradient_accumulation_equals_the_larger_batch_and_resumes(dataset, tmp_path):
    """grad_accum_steps=2 of batch 4 sees the samples of batch 8 (no dropout): same weights;
    a run resumed between accumulated steps equals the uninterrupted one."""
    model = {**TINY_MODEL, "dropout": 0.0}
    common = {"checkpoint_every": 2, "model": model, "max_val_batches": 1}
    train(make_cfg(dataset, tmp_path / "big", steps=4, batch_size=8, **common))
    accumulated = {"batch_size": 4, "grad_accum_steps": 2, **common}
    train(make_cfg(dataset, tmp_path / "acc", steps=4, **accumulated))
    train(make_cfg(dataset, tmp_path / "split", steps=2, lr_decay_steps=4, **accumulated))
    train(make_cfg(dataset, tmp_path / "split", steps=4, resume=True, **accumulated))
    weights = {
        name: load_checkpoint(tmp_path / name / "checkpoints" / "last").model_state
        for name in ("big", "acc", "split")
    }
    for key, value in weights["big"].items():
        torch.testing.assert_close(weights["acc"][key], value, rtol=1e-4, atol=1e-5)
        assert torch.equal(weights["split"][key], weights["acc"][key])


def test_weighted_sampling_resumes_exactly_and_is_recorded(dataset, tmp_path):
    weighted = {"checkpoint_every": 5, "sample_weights": {"single/place_*": 3.0}}
    train(make_cfg(dataset, tmp_path / "full", steps=10, **weighted))
    train(make_cfg(dataset, tmp_path / "split", steps=5, lr_decay_steps=10, **weighted))
    train(make_cfg(dataset, tmp_path / "split", steps=10, resume=True, **weighted))
    a, b = (load_checkpoint(tmp_path / n / "checkpoints" / "last") for n in ("full", "split"))
    assert all(torch.equal(a.model_state[k], b.model_state[k]) for k in a.model_state)
    record = json.loads((tmp_path / "full/checkpoints/last/train_config.json").read_text())
    assert record["config"]["sample_weights"] == {"single/place_*": 3.0}
    with pytest.raises(ValueError, match="'single/stack' matches no training episode"):
        train(make_cfg(dataset, tmp_path / "bad", steps=1, sample_weights={"single/stack": 2}))
    with pytest.raises(ValueError, match="weights must be > 0"):
        make_cfg(dataset, tmp_path / "bad", sample_weights={"single/pick": 0})


def test_bf16_precision_trains_with_fp32_weights(dataset, tmp_path, monkeypatch, capsys):
    from vla.training import setup

    monkeypatch.setattr(setup, "native_bf16", lambda: False)  # as on an AVX2-only CPU
    out = tmp_path / "bf16"
    train(make_cfg(dataset, out, steps=20, checkpoint_every=20, precision="bf16"))
    assert "precision=fp32 trains faster on this machine" in capsys.readouterr().out
    losses = train_losses(read_metrics(out))
    assert losses[20] < 0.9 * losses[5], losses
    state = load_checkpoint(out / "checkpoints" / "last").model_state
    assert all(t.dtype == torch.float32 for t in state.values() if t.is_floating_point())
    with pytest.raises(ValueError, match="precision='fp8': choose one of"):
        train(make_cfg(dataset, tmp_path / "bad", steps=1, precision="fp8"))


def test_bf16_on_a_cpu_without_native_bfloat16_gets_a_note(monkeypatch):
    from vla.training import setup

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(setup, "native_bf16", lambda: False)
    note = setup.precision_note("bf16", cpu)
    assert note is not None and "precision=fp32" in note and "\n" not in note
    assert setup.precision_note("fp32", cpu) is None
    assert setup.precision_note("bf16", cuda) is None
    monkeypatch.setattr(setup, "native_bf16", lambda: True)
    assert setup.precision_note("bf16", cpu) is None
