"""Policy checkpoints: one folder, written atomically, read back with one-line errors.

Layout of a checkpoint folder::

    config.json         {"policy": <registered name>, ...} (what the policy needs to rebuild)
    model.safetensors   model weights (safetensors, CPU tensors)
    norm_stats.json     action normalisation (``vla.tokenizer.NormStats.to_dict``)
    README.md           model card
    training_state.pt   optional: optimizer/scheduler/step etc. (``torch.save``; read back
                        with ``weights_only=True``: tensors and plain values only, so a
                        crafted file cannot run code)
    train_config.json   optional: the resolved training configuration and the data it saw

A policy may keep its weights under another name (config.json ``"weights_file"``, e.g. an
RT-2 LoRA checkpoint's ``adapter_model.safetensors``, peft's name) and add files of its own
(``extra_files``: a processor's tokenizer and chat template, an adapter config).

``save_checkpoint`` writes everything into a sibling temp folder, fsyncs it, then swaps it
in: the old folder is renamed aside to ``.<name>.old``, the new one renamed into place and
the old one deleted. A crash at any moment therefore leaves the old or the new complete
checkpoint; if it strikes between the two renames, the next save or load renames the old
folder back. A crash while writing leaves a ``.<name>.tmp-*`` folder behind, which the next
writer of the parent folder removes (:func:`remove_stale_temps`).
"""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import shutil
import uuid
from dataclasses import dataclass
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from vla.durable import fsync_path

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
NORM_STATS_FILE = "norm_stats.json"
MODEL_CARD_FILE = "README.md"
TRAINING_STATE_FILE = "training_state.pt"
TRAIN_CONFIG_FILE = "train_config.json"
TEMP_PATTERN = ".*.tmp-*"  # save_checkpoint's temporary folders
BUNDLED_DIR = pathlib.Path(__file__).resolve().parent / "assets"  # vla/assets/<name>/
_CORRUPT = "is corrupt or truncated: re-save or re-train it"


@dataclass
class Checkpoint:
    """A loaded checkpoint folder.

    Attributes:
        path: the folder.
        config: parsed config.json.
        model_state: parameter name -> CPU tensor, from model.safetensors.
        norm_stats: parsed norm_stats.json (``NormStats.from_dict`` input).
        training_state: training_state.pt (tensors and plain values), or None if not asked
            for / absent.
        model_card: README.md text ("" if absent).
    """

    path: pathlib.Path
    config: dict
    model_state: dict[str, torch.Tensor]
    norm_stats: dict
    training_state: dict | None = None
    model_card: str = ""


def _aside(directory: pathlib.Path) -> pathlib.Path:
    """Where the previous checkpoint waits while the new one is renamed into place."""
    return directory.with_name(f".{directory.name}.old")


def _recover(directory: pathlib.Path) -> None:
    """Finish an interrupted swap: if only the set-aside old folder exists, put it back."""
    aside = _aside(directory)
    if aside.is_dir() and not directory.exists():
        os.replace(aside, directory)


def save_checkpoint(
    directory: str | os.PathLike,
    *,
    model_state: dict[str, torch.Tensor],
    config: dict,
    norm_stats: dict,
    model_card: str,
    training_state: dict | None = None,
    train_config: dict | None = None,
    extra_files: dict[str, bytes] | None = None,
) -> pathlib.Path:
    """Atomically write (or replace) the checkpoint folder ``directory``; returns its path.

    ``train_config`` (JSON-serialisable) is saved as ``train_config.json`` with the rest.
    The weights go to ``config["weights_file"]`` when the config names one; ``extra_files``
    (file name -> bytes) are written beside them.
    """
    weights_file = _weights_file(config)
    reserved = {CONFIG_FILE, weights_file, NORM_STATS_FILE, MODEL_CARD_FILE}
    reserved |= {TRAINING_STATE_FILE, TRAIN_CONFIG_FILE}
    extra_files = extra_files or {}
    if reserved & set(extra_files) or any(_bad_name(name) for name in extra_files):
        raise ValueError(
            f"extra checkpoint files must be plain new names, got {sorted(extra_files)}"
        )
    directory = pathlib.Path(directory).expanduser().absolute()
    directory.parent.mkdir(parents=True, exist_ok=True)
    _recover(directory)
    tmp = directory.with_name(f".{directory.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        tensors = {k: v.detach().cpu().contiguous() for k, v in model_state.items()}
        save_file(tensors, str(tmp / weights_file))
        for name, data in extra_files.items():
            (tmp / name).write_bytes(data)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        (tmp / NORM_STATS_FILE).write_text(json.dumps(norm_stats, indent=2) + "\n")
        (tmp / MODEL_CARD_FILE).write_text(model_card)
        if training_state is not None:
            torch.save(training_state, tmp / TRAINING_STATE_FILE)
        if train_config is not None:
            (tmp / TRAIN_CONFIG_FILE).write_text(json.dumps(train_config, indent=2) + "\n")
        for file in tmp.iterdir():
            fsync_path(file)
        fsync_path(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    aside = _aside(directory)
    shutil.rmtree(aside, ignore_errors=True)  # a leftover from a crash after the swap
    had_old = directory.exists()
    if had_old:
        os.replace(directory, aside)
    try:
        os.replace(tmp, directory)
    except BaseException:
        if had_old:
            os.replace(aside, directory)  # roll back; a hard crash is undone by _recover
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_path(directory.parent)
    shutil.rmtree(aside, ignore_errors=True)
    return directory


def remove_stale_temps(parent: str | os.PathLike) -> list[pathlib.Path]:
    """Delete the temporary folders a crashed :func:`save_checkpoint` left in ``parent``;
    returns them. Call it only while no other process can be saving there (hold a lock)."""
    stale = [p for p in pathlib.Path(parent).glob(TEMP_PATTERN) if p.is_dir()]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def _bad_name(name: str) -> bool:
    """A file name that could leave the folder or hide (path separators, dot files)."""
    return not name or name.startswith(".") or "/" in name or "\\" in name


def _weights_file(config: dict) -> str:
    """The weights file a checkpoint's config names (default model.safetensors)."""
    name = config.get("weights_file", WEIGHTS_FILE)
    if not isinstance(name, str) or _bad_name(name) or not name.endswith(".safetensors"):
        raise ValueError(f"config.json names weights_file {name!r}: expected a .safetensors name")
    return name


def _read_json(path: pathlib.Path) -> Any:
    """Parse a JSON file; a missing or unparsable file is a one-line ValueError."""
    if not path.is_file():
        raise ValueError(f"checkpoint {path.parent} is missing {path.name}")
    try:
        return json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{path} {_CORRUPT}") from None


def read_config(directory: str | os.PathLike) -> dict:
    """Just the config.json of a checkpoint folder (a JSON object), e.g. to pick its class."""
    directory = pathlib.Path(directory).expanduser()
    _recover(directory)
    if not directory.is_dir():
        raise ValueError(f"checkpoint folder {directory} does not exist")
    config = _read_json(directory / CONFIG_FILE)
    if not isinstance(config, dict):
        raise ValueError(f"{directory / CONFIG_FILE} {_CORRUPT}")
    return config


def load_checkpoint(
    directory: str | os.PathLike, *, with_training_state: bool = False
) -> Checkpoint:
    """Read a folder written by ``save_checkpoint``.

    ``with_training_state`` also reads training_state.pt if present, with torch's
    ``weights_only`` unpickler: anything but tensors and plain values is refused, never run.

    Raises:
        ValueError: one line naming the missing folder/file or the corrupt file.
    """
    directory = pathlib.Path(directory).expanduser()
    config = read_config(directory)
    norm_stats = _read_json(directory / NORM_STATS_FILE)
    weights = directory / _weights_file(config)
    if not weights.is_file():
        raise ValueError(f"checkpoint {directory} is missing {weights.name}")
    try:
        model_state = load_file(str(weights))
    except Exception:  # safetensors raises SafetensorError/OSError on bad headers or sizes
        raise ValueError(f"{weights} {_CORRUPT}") from None
    training_state = None
    state_path = directory / TRAINING_STATE_FILE
    if with_training_state and state_path.is_file():
        try:
            training_state = torch.load(state_path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:  # torch's multi-page explanation: one line instead
            raise ValueError(
                f"{state_path} holds objects other than tensors and plain values; refusing to "
                "unpickle it (it could run code): use a training state this project wrote"
            ) from None
        except Exception:
            raise ValueError(f"{state_path} {_CORRUPT}") from None
    card = directory / MODEL_CARD_FILE
    return Checkpoint(
        path=directory,
        config=config,
        model_state=model_state,
        norm_stats=norm_stats,
        training_state=training_state,
        model_card=card.read_text() if card.is_file() else "",
    )
