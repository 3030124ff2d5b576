"""Tiny, randomly initialised vision-language models of every supported family, built offline.

Nothing here is pretrained: these are the real ``transformers`` classes (model, image
processor, processor with its chat template) at a toy size, with the word-level tokenizer of
``vla.policies.rt2.text`` plus each family's special tokens. They exist so that tests and
``benchmarks/rt2_benchmark.py`` can load, train, save, reload and decode every family without a
download. ``write_backbone(family, folder)`` saves one as a Hugging Face model folder, the
same layout a pretrained VLM has on disk; ``small_llava(...)`` is the from-scratch
configuration ``RT2Config.backbone = None`` trains.

    python -m vla.policies.rt2.tiny qwen2_vl /tmp/tiny_qwen2_vl      # write one folder
    python -m vla.policies.rt2.tiny small_llava /tmp/small_llava      # the small configuration
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from transformers import (
    Idefics3Config,
    Idefics3ForConditionalGeneration,
    Idefics3ImageProcessorPil,
    Idefics3Processor,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaImageProcessorPil,
    LlavaProcessor,
    PaliGemmaConfig,
    PaliGemmaForConditionalGeneration,
    PaliGemmaProcessor,
    PreTrainedTokenizerFast,
    ProcessorMixin,
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLProcessor,
    Qwen2VLConfig,
    Qwen2VLForConditionalGeneration,
    Qwen2VLImageProcessorPil,
    Qwen2VLProcessor,
    SiglipImageProcessorPil,
    SiglipVisionConfig,
    SmolVLMConfig,
    SmolVLMForConditionalGeneration,
    SmolVLMImageProcessorPil,
    SmolVLMProcessor,
)
from transformers.utils import is_torchvision_available

from vla.policies.rt2.backbones import image_only
from vla.policies.rt2.text import build_word_tokenizer, corpus_texts

# Chat templates in each family's own format (shortened from the released models' templates).
LLAVA_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'user' %}USER: "
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %} {% else %}ASSISTANT: "
    "{% for c in m['content'] %}{{ c['text'] }}{% endfor %}{{ eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
IDEFICS3_TEMPLATE = (
    "<|begin_of_text|>{% for m in messages %}{{ m['role'] | capitalize }}:"
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)
QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}"
    "<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% endif %}"
)
IDEFICS3_TOKENS = ["<|begin_of_text|>", "<fake_token_around_image>", "<global-img>", "<image>"]
IDEFICS3_TOKENS += ["<end_of_utterance>"] + [
    f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)
]
QWEN_TOKENS = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>"]
QWEN_TOKENS += ["<|image_pad|>", "<|video_pad|>"]


def _tokenizer(special: list[str]) -> PreTrainedTokenizerFast:
    """The word-level tokenizer (plus the chat roles) with ``special`` added as special tokens."""
    tokenizer = build_word_tokenizer([*corpus_texts(), "user assistant system"])
    tokenizer.add_special_tokens({"additional_special_tokens": special})
    return tokenizer


def _text_ids(tokenizer: PreTrainedTokenizerFast) -> dict[str, Any]:
    return {
        "vocab_size": len(tokenizer),
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }


def _sizes(dim: int, layers: int, heads: int) -> dict[str, int]:
    return {
        "hidden_size": dim,
        "intermediate_size": 4 * dim,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
    }


def small_llava(
    image_size: int = 64,
    patch_size: int = 16,
    vision_dim: int = 128,
    vision_layers: int = 2,
    text_dim: int = 128,
    text_layers: int = 4,
    n_heads: int = 4,
) -> tuple[torch.nn.Module, ProcessorMixin]:
    """A LLaVA (SigLIP-style vision tower, Llama decoder) from config classes, and its
    processor: ``(image_size / patch_size) ** 2`` tokens per image, pixels scaled to [-1, 1]."""
    tokenizer = _tokenizer([])
    vision = SiglipVisionConfig(
        **_sizes(vision_dim, vision_layers, n_heads), image_size=image_size, patch_size=patch_size
    )
    text = LlamaConfig(
        **_sizes(text_dim, text_layers, n_heads),
        num_key_value_heads=n_heads,
        max_position_embeddings=512,
        **_text_ids(tokenizer),
    )
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="full",  # SigLIP has no CLS token to drop
        vision_feature_layer=-1,
        image_seq_length=(image_size // patch_size) ** 2,
    )
    images = LlavaImageProcessorPil(
        size={"height": image_size, "width": image_size},
        do_center_crop=False,
        image_mean=[0.5] * 3,
        image_std=[0.5] * 3,
        resample=2,  # bilinear
    )
    processor = LlavaProcessor(
        image_processor=images,
        tokenizer=tokenizer,
        patch_size=patch_size,
        vision_feature_select_strategy="full",
        chat_template=LLAVA_TEMPLATE,
    )
    return LlavaForConditionalGeneration(config), processor


def tiny_llava() -> tuple[torch.nn.Module, ProcessorMixin]:
    return small_llava(32, 16, 32, 1, 32, 1, 2)


def tiny_idefics3() -> tuple[torch.nn.Module, ProcessorMixin]:
    """Idefics3 (SmolVLM's architecture): 32 px, 2 x 2 patches merged into 1 token."""
    tokenizer = _tokenizer(IDEFICS3_TOKENS)
    images = Idefics3ImageProcessorPil(
        do_image_splitting=False,
        size={"longest_edge": 32},
        max_image_size={"longest_edge": 32},
    )
    processor = Idefics3Processor(
        images, tokenizer, image_seq_len=1, chat_template=IDEFICS3_TEMPLATE
    )
    vision = {
        "model_type": "idefics3_vision",
        **_sizes(32, 1, 2),
        "image_size": 32,
        "patch_size": 16,
    }
    text = {"model_type": "llama", **_sizes(32, 1, 2), "num_key_value_heads": 2}
    config = Idefics3Config(
        vision_config=vision,
        text_config=text | _text_ids(tokenizer),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    return Idefics3ForConditionalGeneration(config), processor


def tiny_smolvlm() -> tuple[torch.nn.Module, ProcessorMixin]:
    """SmolVLM (Idefics3 with its own processor): 32 px, 2 x 2 patches merged into 1 token."""
    tokenizer = _tokenizer(IDEFICS3_TOKENS)
    images = SmolVLMImageProcessorPil(
        do_image_splitting=False,
        size={"longest_edge": 32},
        max_image_size={"longest_edge": 32},
    )
    processor_class = (
        SmolVLMProcessor if is_torchvision_available() else image_only(SmolVLMProcessor)
    )
    processor = processor_class(
        image_processor=images,
        tokenizer=tokenizer,
        image_seq_len=1,
        chat_template=IDEFICS3_TEMPLATE,
    )
    vision = {"model_type": "smolvlm_vision", **_sizes(32, 1, 2), "image_size": 32}
    text = {"model_type": "llama", **_sizes(32, 1, 2), "num_key_value_heads": 2}
    config = SmolVLMConfig(
        vision_config=vision | {"patch_size": 16},
        text_config=text | _text_ids(tokenizer),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        scale_factor=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    return SmolVLMForConditionalGeneration(config), processor


def tiny_paligemma() -> tuple[torch.nn.Module, ProcessorMixin]:
    """PaliGemma (SigLIP + Gemma, prefix-LM attention): 32 px, 4 image tokens."""
    tokenizer = _tokenizer(["<image>"])
    images = SiglipImageProcessorPil(size={"height": 32, "width": 32})
    images.image_seq_length = 4
    processor = PaliGemmaProcessor(images, tokenizer)  # adds the <loc>/<seg> tokens
    vision = {"model_type": "siglip_vision_model", **_sizes(32, 1, 2), "image_size": 32}
    text = {"model_type": "gemma", **_sizes(32, 1, 2), "num_key_value_heads": 2, "head_dim": 16}
    config = PaliGemmaConfig(
        vision_config=vision | {"patch_size": 16, "projection_dim": 32},
        text_config=text | _text_ids(tokenizer),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        projection_dim=32,
        hidden_size=32,
    )
    return PaliGemmaForConditionalGeneration(config), processor


def _qwen(config_class: type, model_class: type, processor_class: type, **vision: Any) -> Any:
    tokenizer = _tokenizer(QWEN_TOKENS)
    images = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=56 * 56)  # 2 x 2 tokens
    if not is_torchvision_available():
        processor_class = image_only(processor_class)
    processor = processor_class(images, tokenizer, chat_template=QWEN_TEMPLATE)
    ids = {t: tokenizer.convert_tokens_to_ids(f"<|{t}|>") for t in ("vision_start", "vision_end")}
    text = {**_sizes(32, 1, 2), "num_key_value_heads": 2, **_text_ids(tokenizer)}
    text["rope_parameters"] = {"rope_type": "default", "mrope_section": [2, 3, 3]}
    config = config_class(
        vision_config={"depth": 1, "hidden_size": 32, "num_heads": 2, **vision},
        text_config=text,
        image_token_id=tokenizer.convert_tokens_to_ids("<|image_pad|>"),
        video_token_id=tokenizer.convert_tokens_to_ids("<|video_pad|>"),
        vision_start_token_id=ids["vision_start"],
        vision_end_token_id=ids["vision_end"],
    )
    return model_class(config), processor


def tiny_qwen2_vl() -> tuple[torch.nn.Module, ProcessorMixin]:
    """Qwen2-VL (3D rotary positions): 56 px, 4 x 4 patches merged into 2 x 2 tokens."""
    return _qwen(Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor, embed_dim=32)


def tiny_qwen2_5_vl() -> tuple[torch.nn.Module, ProcessorMixin]:
    """Qwen2.5-VL (windowed vision attention, 3D rotary positions), as ``tiny_qwen2_vl``."""
    vision = {"intermediate_size": 64, "out_hidden_size": 32, "fullatt_block_indexes": [0]}
    return _qwen(
        Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLProcessor, **vision
    )


TINY_FAMILIES: dict[str, Callable[[], tuple[torch.nn.Module, ProcessorMixin]]] = {
    "llava": tiny_llava,
    "idefics3": tiny_idefics3,
    "smolvlm": tiny_smolvlm,
    "paligemma": tiny_paligemma,
    "qwen2_vl": tiny_qwen2_vl,
    "qwen2_5_vl": tiny_qwen2_5_vl,
}


def write_backbone(family: str, folder: str | Path, seed: int = 0) -> Path:
    """Save the tiny ``family`` model (or ``small_llava``, the small configuration at its
    default sizes) and its processor as a Hugging Face folder; returns it."""
    builders = TINY_FAMILIES | {"small_llava": small_llava}
    if family not in builders:
        raise ValueError(f"unknown family {family!r}; choose one of {sorted(builders)}")
    torch.manual_seed(seed)
    model, processor = builders[family]()
    folder = Path(folder)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a tiny random VLM folder (tests only).")
    parser.add_argument("family", choices=sorted(TINY_FAMILIES) + ["small_llava"])
    parser.add_argument("folder")
    args = parser.parse_args()
    print(write_backbone(args.family, args.folder))


if __name__ == "__main__":
    main()
