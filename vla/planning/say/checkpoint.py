"""A Say checkpoint folder: ``config.json`` + ``model.safetensors`` (+ ``training.json``).

``config.json`` is ``{"kind": "minilm_say", "head": <SayConfig fields>}``; the weights are the
head's only (MiniLM's own come from its package), stored as float16 to stay small. The folder
is written beside its final place and then swapped in, so a crash leaves the old or the new
checkpoint whole, never a mix; loading never runs code from the folder (JSON and
safetensors only).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from vla.planning.say.model import SayConfig, SayHead

KIND = "minilm_say"
CONFIG_FILE, WEIGHTS_FILE, TRAINING_FILE = "config.json", "model.safetensors", "training.json"


def is_say_checkpoint(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds a Say checkpoint (not, say, a causal LM)."""
    path = Path(folder) / CONFIG_FILE
    try:
        return json.loads(path.read_text()).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


def save_head(model: SayHead, folder: str | os.PathLike, training: dict | None = None) -> Path:
    """Write ``model`` (float16) and ``training`` to ``folder``, replacing what was there
    (files other than the checkpoint's own, e.g. a README, are kept)."""
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(folder, tmp) if folder.is_dir() else tmp.mkdir(parents=True)
    weights = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(weights, tmp / WEIGHTS_FILE)
    config = {"kind": KIND, "head": model.cfg.to_dict()}
    (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    if training is not None:
        (tmp / TRAINING_FILE).write_text(json.dumps(training, indent=2) + "\n")
    aside = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(aside, ignore_errors=True)
    if folder.exists():
        os.replace(folder, aside)
    os.replace(tmp, folder)
    shutil.rmtree(aside, ignore_errors=True)
    return folder


def load_head(folder: str | os.PathLike) -> SayHead:
    """The head saved in ``folder`` (float32, eval mode); ValueError naming what is wrong."""
    folder = Path(folder)
    if not is_say_checkpoint(folder):
        raise ValueError(
            f"no Say checkpoint at {str(folder)!r}: expected {CONFIG_FILE} with kind {KIND!r} "
            f"and {WEIGHTS_FILE} (train one with python -m vla.planning.say.train)"
        )
    config = json.loads((folder / CONFIG_FILE).read_text())
    model = SayHead(SayConfig(**config["head"]))
    try:
        state = load_file(folder / WEIGHTS_FILE)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{folder / WEIGHTS_FILE} is missing or corrupt: {exc}") from None
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.eval()
