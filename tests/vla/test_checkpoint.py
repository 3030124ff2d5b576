import json
import os

import pytest
import torch

from vla import checkpoint as ckpt_mod
from vla.checkpoint import load_checkpoint, save_checkpoint


def save(path, value: float = 1.0, **extra):
    return save_checkpoint(
        path,
        model_state={"w": torch.full((2, 3), value), "b": torch.arange(3)},
        config={"policy": "dummy", "value": value},
        norm_stats={"q01": [0.0], "q99": [1.0]},
        model_card="# card\n",
        **extra,
    )


def test_round_trip(tmp_path):
    path = save(tmp_path / "ck", 2.0, training_state={"step": 7, "opt": {"lr": 0.1}})
    assert sorted(p.name for p in path.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "norm_stats.json",
        "training_state.pt",
    ]
    ck = load_checkpoint(path)
    assert ck.config == {"policy": "dummy", "value": 2.0}
    assert torch.equal(ck.model_state["w"], torch.full((2, 3), 2.0))
    assert ck.norm_stats["q99"] == [1.0]
    assert ck.training_state is None and ck.model_card == "# card\n"
    assert load_checkpoint(path, with_training_state=True).training_state["step"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]  # no temp or set-aside folders


def test_overwrite_replaces_everything(tmp_path):
    save(tmp_path / "ck", 1.0, training_state={"step": 1})
    save(tmp_path / "ck", 3.0)
    ck = load_checkpoint(tmp_path / "ck", with_training_state=True)
    assert ck.config["value"] == 3.0 and ck.training_state is None


def test_missing_folder_and_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_checkpoint(tmp_path / "nope")
    path = save(tmp_path / "ck")
    (path / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="is missing model.safetensors"):
        load_checkpoint(path)
    (path / "config.json").unlink()
    with pytest.raises(ValueError, match="is missing config.json"):
        load_checkpoint(path)


@pytest.mark.parametrize("name", ["model.safetensors", "config.json"])
def test_truncated_file_is_corrupt(tmp_path, name):
    path = save(tmp_path / "ck")
    data = (path / name).read_bytes()
    (path / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=f"{name} is corrupt or truncated: re-save") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)


def test_crash_on_final_rename_keeps_old_checkpoint(tmp_path, monkeypatch):
    save(tmp_path / "ck", 1.0)
    real_replace = os.replace

    def crashing_replace(src, dst):
        if ".tmp-" in str(src):  # the rename of the new folder into place
            raise OSError("simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(ckpt_mod.os, "replace", crashing_replace)
    with pytest.raises(OSError, match="simulated crash"):
        save(tmp_path / "ck", 2.0)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "ck").config["value"] == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_hard_crash_between_renames_recovers_old(tmp_path):
    """A kill after the old folder was set aside but before the new one moved in."""
    save(tmp_path / "ck", 1.0)
    os.replace(tmp_path / "ck", tmp_path / ".ck.old")
    assert load_checkpoint(tmp_path / "ck").config["value"] == 1.0
    os.replace(tmp_path / "ck", tmp_path / ".ck.old")
    save(tmp_path / "ck", 2.0)
    assert load_checkpoint(tmp_path / "ck").config["value"] == 2.0
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_config_must_be_json_object(tmp_path):
    path = save(tmp_path / "ck")
    (path / "config.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ValueError, match="config.json is corrupt"):
        load_checkpoint(path)


def test_train_config_is_saved_with_the_checkpoint(tmp_path):
    record = {"config": {"steps": 4, "model": {"d_model": 32}}, "data": {"episodes": 3}}
    path = save(tmp_path / "ck", train_config=record)
    assert json.loads((path / ckpt_mod.TRAIN_CONFIG_FILE).read_text()) == record
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_stale_temporary_folders_are_removed_and_checkpoints_kept(tmp_path):
    save(tmp_path / "last")
    stale = [tmp_path / ".last.tmp-123-abcdef01", tmp_path / ".best.tmp-9-00000000"]
    for folder in stale:
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"half")
    assert sorted(ckpt_mod.remove_stale_temps(tmp_path)) == sorted(stale)
    assert [p.name for p in tmp_path.iterdir()] == ["last"]
    assert load_checkpoint(tmp_path / "last").config["value"] == 1.0
    assert ckpt_mod.remove_stale_temps(tmp_path / "missing") == []


class CreatesAFile:
    """Unpickling this calls ``open(path, "w")``: a stand-in for any code a crafted file runs."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_training_state_that_would_run_code_is_a_one_line_error(tmp_path):
    path = save(tmp_path / "ck", 1.0, training_state={"step": 1})
    proof, marker = tmp_path / "proof", tmp_path / "pwned"
    torch.save({"step": 1, "x": CreatesAFile(proof)}, tmp_path / "crafted.pt")
    torch.load(tmp_path / "crafted.pt", weights_only=False)  # the file really runs code
    assert proof.exists()
    torch.save({"step": 1, "x": CreatesAFile(marker)}, path / "training_state.pt")
    with pytest.raises(ValueError) as error:
        load_checkpoint(path, with_training_state=True)
    message = str(error.value)
    assert (
        "\n" not in message and "refusing to unpickle" in message and "training_state.pt" in message
    )
    assert not marker.exists()


def test_real_training_state_loads_with_weights_only(tmp_path):
    from vla.training.setup import rng_states

    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
    path = save(tmp_path / "ck", 1.0, training_state={**state, "step": 3, "rng": rng_states()})
    loaded = load_checkpoint(path, with_training_state=True).training_state
    assert loaded["step"] == 3 and loaded["optimizer"]["state"][0]["step"] == 1
