"""What an RT-2 checkpoint folder holds, and how it becomes an ``RT2`` again.

Besides ``vla.checkpoint``'s files (config.json, weights, norm_stats.json, README.md) an RT-2
checkpoint carries its processor (tokenizer with the action tokens, chat template, image
processor settings) as the processor's own files, so ``AutoProcessor.from_pretrained`` opens
it. config.json holds the ``RT2Config`` (``"model"``), the resized Hugging Face model config
(``"hf_config"``) and, for a pretrained backbone, ``"base_model"``: its folder and the
SHA-256 of its config.json.

* **Full** (from scratch, or full fine-tuning): ``model.safetensors`` is the whole model; the
  base folder is not needed to load it.
* **LoRA** (adapter only): peft's ``adapter_config.json`` and ``adapter_model.safetensors``
  (``vla.policies.rt2.lora``); loading opens the base folder, checks its config hash, and
  puts the adapter on top, merged into the weights if asked (``merge_adapters``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import torch

from vla.checkpoint import Checkpoint
from vla.policies.rt2.backbones import (
    check_folder,
    config_sha256,
    load_backbone,
    load_processor,
    model_from_config,
)
from vla.policies.rt2.lora import ADAPTER_CONFIG, ADAPTER_WEIGHTS, adapter_files, open_adapter
from vla.policies.rt2.model import RT2, RT2Config


def processor_files(rt2: RT2) -> dict[str, bytes]:
    """The processor's saved files (name -> bytes)."""
    with tempfile.TemporaryDirectory() as tmp:
        rt2.processor.save_pretrained(tmp)
        return {f.name: f.read_bytes() for f in Path(tmp).iterdir() if f.is_file()}


def export(rt2: RT2) -> dict[str, Any]:
    """``save_checkpoint`` arguments for ``rt2``: ``model_state``, ``config`` (without the
    policy name and camera names) and ``extra_files``."""
    config = {
        "model": rt2.config.to_dict(),
        "hf_config": json.loads(rt2.hf.config.to_json_string(use_diff=False)),
        "base_model": rt2.base,
    }
    files = processor_files(rt2)
    if rt2.config.lora:
        state, adapter_config = adapter_files(rt2.vlm, rt2.base["path"])
        config["weights_file"] = ADAPTER_WEIGHTS
        files[ADAPTER_CONFIG] = adapter_config
    else:
        state, _ = unique_state(rt2)
    return {"model_state": state, "config": config, "extra_files": files}


def restore(ckpt: Checkpoint, base_model: str | None = None, merge_adapters: bool = False) -> RT2:
    """The ``RT2`` of a checkpoint (eval mode).

    Args:
        ckpt: the loaded checkpoint folder.
        base_model: LoRA only: the base folder, if it moved from the recorded path.
        merge_adapters: LoRA only: merge the adapters into the base weights.

    Raises:
        ValueError: one line: invalid config, missing or different base model, weights that
            do not match.
    """
    data = ckpt.config
    where = ckpt.path / "config.json"
    try:
        config = RT2Config.from_dict(data["model"])
        model_type = data["hf_config"]["model_type"]
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where} is not an RT-2 checkpoint config: {err}") from None
    processor = load_processor(ckpt.path, model_type)
    if config.lora:
        base = data.get("base_model") or {}
        folder = check_base(base, base_model, ckpt.path)
        vlm, _, _ = load_backbone(folder)
        rt2 = RT2(config, vlm, processor, {**base, "path": str(folder)}, adapter=False)
        rt2.vlm = open_adapter(rt2.hf, ckpt.path, merge_adapters)
        return rt2.eval()
    rt2 = RT2(config, model_from_config(data["hf_config"]), processor, data.get("base_model"))
    load_full_state(rt2, ckpt.model_state, ckpt.path)
    return rt2.eval()


def unique_state(model: torch.nn.Module) -> tuple[dict[str, torch.Tensor], set[str]]:
    """``model.state_dict()`` with each tied tensor once (safetensors refuses shared memory;
    e.g. Gemma's output layer is its input embedding), and the names left out."""
    state, seen, aliases = {}, set(), set()
    for name, tensor in model.state_dict().items():
        key = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape))
        if key in seen:
            aliases.add(name)
        else:
            seen.add(key)
            state[name] = tensor
    return state, aliases


def load_full_state(rt2: RT2, state: dict[str, torch.Tensor], where: Path) -> None:
    """Load a whole-model state (``unique_state``'s) strictly, tied names aside."""
    _, aliases = unique_state(rt2)
    try:
        missing, unexpected = rt2.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shape mismatch
        lines = [ln.strip() for ln in str(err).splitlines()[1:] if ln.strip()]
        missing, unexpected = [(lines[0] if lines else str(err))[:300]], []
    problems = [f"missing {k}" for k in missing if k not in aliases] + [
        f"unexpected {k}" for k in unexpected
    ]
    if problems:
        raise ValueError(f"checkpoint {where} does not match its config.json: {problems[0]}")


def check_base(base: dict[str, str], override: str | None, checkpoint: Path) -> Path:
    """The base model folder of a LoRA checkpoint, after checking its config hash."""
    path = override or base.get("path")
    if not path:
        raise ValueError(f"LoRA checkpoint {checkpoint} does not record its base model")
    folder = check_folder(path, f"the base model of {checkpoint}")
    if config_sha256(folder) != base.get("config_sha256"):
        raise ValueError(
            f"{folder}/config.json differs from the base model LoRA checkpoint {checkpoint} was "
            f"trained on (config sha256 {base.get('config_sha256')}): pass base_model=<that folder>"
        )
    return folder
