"""Adapter-only LoRA for RT-2 (``peft``): what trains, and the files a checkpoint keeps.

With ``model.lora`` the backbone stays frozen. What trains is small: LoRA adapters on the
language model's attention and MLP projections, the rows of the new tokens (the 259 action
tokens and the slot token) in the input embedding and, when it is not tied to it, the
output layer (``trainable_token_indices``), and the vision-to-language projector
(``modules_to_save``). A checkpoint stores only those, in peft's own files
(``adapter_config.json``, ``adapter_model.safetensors``), so ``peft.PeftModel.from_pretrained``
opens it on top of the base folder once the base's embeddings are resized to the
checkpoint's tokenizer::

    base = AutoModelForImageTextToText.from_pretrained(base_folder)
    base.resize_token_embeddings(len(AutoProcessor.from_pretrained(checkpoint).tokenizer))
    model = PeftModel.from_pretrained(base, checkpoint)   # .merge_and_unload() to merge
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn

from vla.policies.rt2.backbones import LORA_TARGETS, Family

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def _tied(vlm: nn.Module) -> bool:
    out = vlm.get_output_embeddings()
    return out is not None and out.weight is vlm.get_input_embeddings().weight


def apply_lora(vlm: nn.Module, family: Family, rank: int, new_token_ids: list[int]) -> nn.Module:
    """Wrap ``vlm`` in a ``PeftModel`` (see the module docstring for what trains)."""
    from peft import LoraConfig, get_peft_model

    tokens = {"embed_tokens": list(new_token_ids)}
    if not _tied(vlm):
        tokens["lm_head"] = list(new_token_ids)
    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.0,
        target_modules=LORA_TARGETS,
        trainable_token_indices=tokens,
        modules_to_save=[family.projector],
    )
    return get_peft_model(vlm, config)


def adapter_files(peft_model: nn.Module, base_path: str) -> tuple[dict[str, torch.Tensor], bytes]:
    """(adapter weights as peft saves them, adapter_config.json naming ``base_path``)."""
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(peft_model)
    config = peft_model.peft_config["default"]
    config.base_model_name_or_path = str(base_path)
    with tempfile.TemporaryDirectory() as tmp:
        config.save_pretrained(tmp)
        return state, (Path(tmp) / ADAPTER_CONFIG).read_bytes()


def load_adapter_state(peft_model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Put saved adapter weights back into a freshly wrapped model (resuming training).

    Raises:
        ValueError: if the weights do not fit the model's adapters.
    """
    from peft import set_peft_model_state_dict

    result = set_peft_model_state_dict(peft_model, state)
    if result.unexpected_keys:
        raise ValueError(f"adapter weights do not fit the model: {result.unexpected_keys[0]} ...")


def open_adapter(vlm: nn.Module, folder: str | Path, merge: bool) -> nn.Module:
    """``PeftModel.from_pretrained(vlm, folder)`` for inference; merged into ``vlm``'s weights
    (a plain Hugging Face model, slightly faster) when ``merge``."""
    from peft import PeftModel

    model = PeftModel.from_pretrained(vlm, str(folder), is_trainable=False)
    return model.merge_and_unload() if merge else model
