"""The vision-language model families RT-2 fine-tunes, loaded through the standard classes.

A backbone is a local Hugging Face folder (``config.json``, weights, processor files) that
``AutoModelForImageTextToText`` and ``AutoProcessor`` open. The processor does the image
preprocessing and expands the image placeholders of the prompt (``Family.prompt``: the
processor's chat template with one image entry per camera). What differs between families
and matters to RT-2 is written down once per family in ``FAMILIES``:

* ``prefix_lm``: PaliGemma attends bidirectionally over image + prompt (its pretraining
  mask); the others are causal throughout.
* ``position_offset``: PaliGemma numbers positions from 1.
* ``mrope``: Qwen2-VL and Qwen2.5-VL give image tokens 3D (time, height, width) rotary
  positions, computed by the model's own ``get_rope_index``.
* ``projector``: the module that maps vision features into the language model; with LoRA it
  stays fully trainable, as in LLaVA's fine-tuning recipe.

Qwen2-VL's and SmolVLM's processor classes include a video processor, which transformers 5
builds only with ``torchvision``; without it the same processor class is loaded minus its
video half (``image_only``): images and text are processed by the same code.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor, ProcessorMixin
from transformers.utils import is_torchvision_available

# LoRA on the language model's attention and MLP projections, never on the vision tower.
LORA_TARGETS = (
    r"^(?!.*(vision|visual)).*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$"
)


@dataclass(frozen=True)
class Family:
    """What RT-2 needs to know about one VLM architecture (see the module docstring)."""

    name: str
    model_types: tuple[str, ...]  # config.json "model_type" values of this family
    projector: str
    prefix_lm: bool = False
    position_offset: int = 0
    mrope: bool = False

    def prompt(self, processor: ProcessorMixin, question: str, n_images: int) -> str:
        """The user turn with ``n_images`` images then ``question``, ready for the answer."""
        if self.name == "paligemma":  # no chat template: image tokens, then the processor
            return processor.image_token * n_images + question  # adds bos and a newline
        content = [{"type": "image"}] * n_images + [{"type": "text", "text": question}]
        messages = [{"role": "user", "content": content}]
        return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


FAMILIES: tuple[Family, ...] = (
    Family("llava", ("llava",), "multi_modal_projector"),
    Family("idefics3", ("idefics3", "smolvlm"), "connector"),
    Family("paligemma", ("paligemma",), "multi_modal_projector", prefix_lm=True, position_offset=1),
    Family("qwen2_vl", ("qwen2_vl", "qwen2_5_vl"), "merger", mrope=True),
)
VIDEO_PROCESSORS = ("smolvlm", "qwen2_vl", "qwen2_5_vl")  # processors that hold a video one
SUPPORTED = ", ".join(t for f in FAMILIES for t in f.model_types)


def family_of(model_type: str, where: str = "model.backbone") -> Family:
    """The family of a config.json ``model_type``; one-line ValueError if unsupported."""
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    raise ValueError(
        f"{where} is a {model_type!r} model; RT-2 supports these VLM families: {SUPPORTED}"
    )


def config_sha256(folder: str | Path) -> str:
    """SHA-256 of a model folder's config.json: which base model an adapter was trained on."""
    return hashlib.sha256((Path(folder) / "config.json").read_bytes()).hexdigest()


def check_folder(path: str | Path, what: str = "model.backbone") -> Path:
    """``path`` as a folder holding config.json; one-line ValueError otherwise."""
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise ValueError(
            f"{what} {str(path)!r} is not a Hugging Face model folder (no config.json); "
            "give a local vision-language model folder (nothing is downloaded)"
        )
    return folder


def image_only(processor_class: type[ProcessorMixin]) -> type[ProcessorMixin]:
    """``processor_class`` (Qwen2-VL's, Qwen2.5-VL's or SmolVLM's) without its video
    processor: same name, same image/text code and saved files; the chat template is rendered
    without SmolVLM's video defaults. ``__init__`` spells out its arguments because
    ``ProcessorMixin.from_pretrained`` reads them from the code object."""
    if "image_seq_len" in inspect.signature(processor_class.__init__).parameters:  # SmolVLM

        def __init__(
            self,
            image_processor=None,
            tokenizer=None,
            image_seq_len=169,
            chat_template=None,
            **kwargs,
        ):  # noqa: ANN001, E501
            processor_class.__init__(
                self, image_processor, tokenizer, None, image_seq_len, chat_template, **kwargs
            )

    else:

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):  # noqa: ANN001
            processor_class.__init__(
                self, image_processor, tokenizer, None, chat_template, **kwargs
            )

    def apply_chat_template(self, conversation, chat_template=None, **kwargs):  # noqa: ANN001
        return ProcessorMixin.apply_chat_template(self, conversation, chat_template, **kwargs)

    members = {"__init__": __init__, "apply_chat_template": apply_chat_template}
    return type(processor_class.__name__, (processor_class,), members)


def load_processor(folder: str | Path, model_type: str) -> ProcessorMixin:
    """The folder's processor (``AutoProcessor``; ``image_only`` without torchvision)."""
    if model_type in VIDEO_PROCESSORS and not is_torchvision_available():
        import transformers
        from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES

        processor_class = getattr(transformers, PROCESSOR_MAPPING_NAMES[model_type])
        return image_only(processor_class).from_pretrained(folder, local_files_only=True)
    return AutoProcessor.from_pretrained(folder, local_files_only=True)


def load_backbone(
    path: str | Path, dtype: torch.dtype = torch.float32
) -> tuple[torch.nn.Module, ProcessorMixin, Family]:
    """Open a local VLM folder: (model with sdpa attention, its processor, its family).

    Raises:
        ValueError: one line, if ``path`` is not a model folder or not a supported family.
    """
    folder = check_folder(path)
    model_type = AutoConfig.from_pretrained(folder, local_files_only=True).model_type
    family = family_of(model_type, f"model.backbone {str(path)!r}")
    processor = load_processor(folder, model_type)
    # sdpa: RT-2 passes its own 4D attention masks (prefix-LM, parallel decoding)
    model = AutoModelForImageTextToText.from_pretrained(
        folder, local_files_only=True, dtype=dtype, attn_implementation="sdpa"
    )
    return model, processor, family


def model_from_config(hf_config: dict[str, Any]) -> torch.nn.Module:
    """An (untrained) model of the architecture ``hf_config`` describes (a config.json dict)."""
    data = dict(hf_config)
    config = AutoConfig.for_model(data.pop("model_type"), **data)
    return AutoModelForImageTextToText.from_config(config, attn_implementation="sdpa")
