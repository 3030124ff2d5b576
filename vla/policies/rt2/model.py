"""RT-2 style VLA (Brohan et al. 2023): a Hugging Face vision-language model that speaks actions.

The backbone is a LLaVA-style ``transformers`` model (``LlavaForConditionalGeneration``: a
vision tower, a projector, a causal language model). Both cameras go in as two images, each
a group of ``<image>`` placeholders in the prompt::

    <bos> <image> x n (front) <image> x n (wrist) What action should the robot take to {x}?

and the answer is the 11 action tokens of ``vla.policies.rt2.vocab`` (added to the vocabulary, with
the embeddings resized). Training is next-token cross-entropy on the answer only; at run time
the 11 tokens are generated greedily with the KV cache, under ``ActionLogitsProcessor`` so
each position can only produce a valid token. Co-training answers are words instead.

``RT2Config.backbone = None`` builds a small model from config classes (no download, trains on
a CPU); a path loads a pretrained LLaVA-format VLM from disk and fine-tunes it, fully or with
LoRA (``peft``). Sequences in a batch are left-padded so that all answers end together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer
from torch import nn
from torch.nn import functional as F
from transformers import (
    AutoConfig,
    AutoTokenizer,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LogitsProcessor,
    PreTrainedTokenizerFast,
    SiglipVisionConfig,
)

from vla.policies.rt2.text import IMAGE, PROMPT, build_word_tokenizer
from vla.policies.rt2.vocab import ActionLogitsProcessor, ActionVocab, add_action_tokens
from vla.tokenizer import N_ACTION_DIMS

SUPPORTED_BACKBONES = ("llava",)  # config.json model_type of a loadable pretrained VLM
IGNORE = -100  # label of tokens without loss (prompt, padding)


@dataclass(frozen=True)
class RT2Config:
    """Hyper-parameters (JSON round-trip via ``to_dict``/``from_dict``).

    The size fields describe the from-scratch backbone and are ignored with ``backbone`` set.
    """

    backbone: str | None = None  # local Hugging Face VLM folder; None: small, from scratch
    image_size: int = 64  # camera side the policy is fed (resized to the vision tower's)
    n_cameras: int = 2  # front, wrist: two images per prompt
    patch_size: int = 16  # vision tower patches: (64 / 16) ** 2 = 16 tokens per camera
    vision_dim: int = 128
    vision_layers: int = 2
    text_dim: int = 128
    text_layers: int = 4
    n_heads: int = 4
    n_bins: int = 256
    lora: bool = False  # LoRA adapters on the language model instead of full fine-tuning
    lora_rank: int = 16

    def __post_init__(self) -> None:
        positive = ("image_size", "n_cameras", "patch_size", "vision_dim", "vision_layers")
        positive += ("text_dim", "text_layers", "n_heads", "n_bins", "lora_rank")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"RT2Config.{name} must be >= 1, got {getattr(self, name)}")
        if self.backbone is None and self.image_size % self.patch_size:
            raise ValueError("RT2Config.image_size must be a multiple of patch_size")
        if self.text_dim % self.n_heads or self.vision_dim % self.n_heads:
            raise ValueError("RT2Config.text_dim and vision_dim must be divisible by n_heads")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RT2Config:
        """Inverse of ``to_dict``; unknown keys raise ValueError, missing keys use defaults."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"RT2Config.from_dict: unknown keys {sorted(unknown)}")
        return cls(**data)


def scratch_backbone(config: RT2Config, tokenizer: PreTrainedTokenizerFast) -> nn.Module:
    """A small LLaVA (SigLIP-style vision tower + Llama decoder) built from config classes."""
    heads = config.n_heads
    vision = SiglipVisionConfig(
        hidden_size=config.vision_dim,
        intermediate_size=4 * config.vision_dim,
        num_hidden_layers=config.vision_layers,
        num_attention_heads=heads,
        image_size=config.image_size,
        patch_size=config.patch_size,
    )
    text = LlamaConfig(
        hidden_size=config.text_dim,
        intermediate_size=4 * config.text_dim,
        num_hidden_layers=config.text_layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        vocab_size=len(tokenizer),
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    llava = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE),
        vision_feature_select_strategy="full",  # SigLIP has no CLS token to drop
        vision_feature_layer=-1,
        image_seq_length=(config.image_size // config.patch_size) ** 2,
    )
    return LlavaForConditionalGeneration(llava)


def pretrained_backbone(path: str) -> tuple[nn.Module, PreTrainedTokenizerFast, dict[str, Any]]:
    """Load a LLaVA-format VLM folder: (model, fast tokenizer, image preprocessing).

    Raises:
        ValueError: one line, if ``path`` is not a folder holding a supported VLM.
    """
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise ValueError(f"model.backbone {path!r} is not a Hugging Face model folder")
    model_type = AutoConfig.from_pretrained(folder, local_files_only=True).model_type
    if model_type not in SUPPORTED_BACKBONES:
        raise ValueError(
            f"model.backbone {path!r} is a {model_type!r} model; supported VLMs: "
            f"{', '.join(SUPPORTED_BACKBONES)} (vision tower + causal LM)"
        )
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if not isinstance(tokenizer, PreTrainedTokenizerFast):
        raise ValueError(f"model.backbone {path!r} has no fast tokenizer (tokenizer.json)")
    vlm = LlavaForConditionalGeneration.from_pretrained(folder, local_files_only=True)
    return vlm.float(), tokenizer, _image_preprocessing(folder)


def _image_preprocessing(folder: Path) -> dict[str, Any]:
    """Mean/std of the backbone's image processor (CLIP's when it has none on disk)."""
    import json

    mean, std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    file = folder / "preprocessor_config.json"
    if file.is_file():
        data = json.loads(file.read_text())
        mean, std = data.get("image_mean", mean), data.get("image_std", std)
    return {"image_mean": list(mean), "image_std": list(std)}


def apply_lora(vlm: nn.Module, rank: int) -> nn.Module:
    """Wrap ``vlm`` with LoRA on the language model's attention and MLP projections; the
    embeddings, output layer and projector stay fully trainable (they hold the new tokens)."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.0,
        target_modules=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)",
        modules_to_save=["embed_tokens", "lm_head", "multi_modal_projector"],
    )
    return get_peft_model(vlm, lora)


class RT2(nn.Module):
    """A VLA: camera images + instruction -> 11 action tokens (or a text answer).

    Build with ``RT2.build(config)``; ``vlm`` is the Hugging Face model (a ``PeftModel`` with
    LoRA), ``tokenizer`` its text tokenizer including the action tokens.
    """

    def __init__(
        self,
        config: RT2Config,
        vlm: nn.Module,
        tokenizer: PreTrainedTokenizerFast,
        image_mean: list[float],
        image_std: list[float],
    ) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        if tokenizer.pad_token_id is None:  # left padding needs one; it is always masked
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        add_action_tokens(tokenizer, config.n_bins)
        if vlm.get_input_embeddings().weight.shape[0] != len(tokenizer):
            # pretrained: new rows start at the mean of the old ones; scratch: random anyway
            vlm.resize_token_embeddings(len(tokenizer), mean_resizing=config.backbone is not None)
        self.llava_config = vlm.config
        self.vision_size = int(vlm.config.vision_config.image_size)
        self.image_token_id = int(vlm.config.image_token_id)
        self.n_image_tokens = _image_tokens_per_camera(vlm, self.vision_size)
        self.vlm = apply_lora(vlm, config.lora_rank) if config.lora else vlm
        vocab_size = vlm.get_output_embeddings().weight.shape[0]
        self.vocab = ActionVocab.from_tokenizer(tokenizer, vocab_size, config.n_bins)
        self.register_buffer("image_mean", torch.tensor(image_mean).view(1, 3, 1, 1), False)
        self.register_buffer("image_std", torch.tensor(image_std).view(1, 3, 1, 1), False)

    @classmethod
    def build(cls, config: RT2Config, tokenizer: PreTrainedTokenizerFast | None = None) -> RT2:
        """From scratch (``config.backbone`` None) or from the pretrained backbone folder."""
        if config.backbone is None:
            tokenizer = tokenizer or build_word_tokenizer()
            half = {"image_mean": [0.5] * 3, "image_std": [0.5] * 3}
            return cls(config, scratch_backbone(config, tokenizer), tokenizer, **half)
        vlm, backbone_tokenizer, preprocessing = pretrained_backbone(config.backbone)
        return cls(config, vlm, tokenizer or backbone_tokenizer, **preprocessing)

    def checkpoint_fields(self) -> dict[str, Any]:
        """What config.json needs to rebuild this model without the backbone folder: the
        RT2Config, the (resized) LLaVA config, the tokenizer and the image normalisation."""
        special = ("pad_token", "unk_token", "bos_token", "eos_token")
        return {
            "model": self.config.to_dict(),
            "hf_config": self.llava_config.to_dict(),
            "tokenizer": self.tokenizer.backend_tokenizer.to_str(),
            "special_tokens": {k: getattr(self.tokenizer, k) for k in special},
            "image_mean": self.image_mean.flatten().tolist(),
            "image_std": self.image_std.flatten().tolist(),
        }

    @classmethod
    def from_checkpoint_fields(cls, data: dict[str, Any]) -> RT2:
        """Inverse of ``checkpoint_fields`` (random weights: load the state dict next)."""
        config = RT2Config.from_dict(data["model"])
        backend = Tokenizer.from_str(data["tokenizer"])
        special = {k: v for k, v in data["special_tokens"].items() if v is not None}
        tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, **special)
        vlm = LlavaForConditionalGeneration(LlavaConfig.from_dict(data["hf_config"]))
        return cls(config, vlm, tokenizer, data["image_mean"], data["image_std"])

    def num_params(self, trainable: bool = False) -> int:
        return sum(p.numel() for p in self.vlm.parameters() if p.requires_grad or not trainable)

    # --- inputs -----------------------------------------------------------------------------

    def pixel_values(self, images: torch.Tensor) -> torch.Tensor:
        """(B, n_cameras, 3, H, W) uint8 -> (B * n_cameras, 3, S, S) normalised float."""
        x = images.flatten(0, 1).float() / 255.0
        if x.shape[-2:] != (self.vision_size, self.vision_size):
            size = (self.vision_size, self.vision_size)
            x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
        return (x - self.image_mean) / self.image_std

    def prompt_ids(self, text: str, instruction: bool = True) -> list[int]:
        """Token ids of one prompt: bos, the image placeholders, then the question
        (``PROMPT`` filled with ``text`` when ``instruction``, else ``text`` as it is)."""
        question = PROMPT.format(instruction=text) if instruction else text
        bos = [self.tokenizer.bos_token_id] if self.tokenizer.bos_token_id is not None else []
        images = [self.image_token_id] * (self.n_image_tokens * self.config.n_cameras)
        return bos + images + self.tokenizer(question, add_special_tokens=False).input_ids

    def answer_ids(self, answer: str) -> list[int]:
        """Token ids of a text answer (co-training), ending with eos."""
        ids = self.tokenizer(answer, add_special_tokens=False).input_ids
        return ids + [self.tokenizer.eos_token_id]

    def batch(self, prompts: list[list[int]], answers: list[list[int]]) -> dict[str, torch.Tensor]:
        """Left-padded ``input_ids``/``attention_mask``/``position_ids`` of prompt + answer and
        ``labels`` (B, T): the last T tokens, IGNORE on prompt and padding."""
        rows = [p + a for p, a in zip(prompts, answers, strict=True)]
        width, keep = max(map(len, rows)), max(map(len, answers))
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        labels = torch.full((len(rows), keep), IGNORE, dtype=torch.long)
        for i, (row, answer) in enumerate(zip(rows, answers, strict=True)):
            ids[i, width - len(row) :] = torch.tensor(row)
            mask[i, width - len(row) :] = 1
            labels[i, keep - len(answer) :] = torch.tensor(answer)
        position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "position_ids": position_ids,
            "labels": labels,
        }

    # --- training -----------------------------------------------------------------------------

    def forward(self, batch: dict[str, torch.Tensor], pixel_values: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, V) that predict the T answer tokens ``batch["labels"]``."""
        keep = batch["labels"].shape[1]
        out = self.vlm(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            position_ids=batch["position_ids"],
            pixel_values=pixel_values,
            logits_to_keep=keep + 1,  # position t predicts token t + 1
            use_cache=False,
        )
        return out.logits[:, :-1]

    @staticmethod
    def loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy over the answer tokens."""
        return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)

    # --- inference ----------------------------------------------------------------------------

    @torch.no_grad()
    def generate_action_ids(self, images: torch.Tensor, instructions: list[str]) -> torch.Tensor:
        """Greedy, constrained, KV-cached decoding of 11 action ids: (B, 11) vocabulary ids.

        Args:
            images: (B, n_cameras, 3, H, W) uint8.
            instructions: B instruction strings.
        """
        prompts = [self.prompt_ids(text) for text in instructions]
        batch = self.batch(prompts, [[] for _ in prompts])
        processor = ActionLogitsProcessor(self.vocab, prompt_length=batch["input_ids"].shape[1])
        return self.greedy_decode(batch, images, processor, N_ACTION_DIMS)

    def greedy_decode(
        self,
        batch: dict[str, torch.Tensor],
        images: torch.Tensor,
        processor: LogitsProcessor | None,
        n_tokens: int,
    ) -> torch.Tensor:
        """``n_tokens`` greedy tokens after the (left-padded) prompts of ``batch``: one prefill
        with the images, then one cached step per token. A plain loop rather than
        ``generate()``: at 11 tokens from a small model, generate's per-step bookkeeping costs
        more than the model on a CPU. Returns (B, n_tokens) ids on the CPU."""
        device = self.image_mean.device
        ids = batch["input_ids"].to(device)
        mask = batch["attention_mask"].to(device)
        position = batch["position_ids"].to(device)
        kwargs = {"pixel_values": self.pixel_values(images.to(device))}
        out_ids = ids
        for _ in range(n_tokens):
            out = self.vlm(
                input_ids=ids,
                attention_mask=mask,
                position_ids=position,
                use_cache=True,
                logits_to_keep=1,
                **kwargs,
            )
            scores = out.logits[:, -1].float()
            if processor is not None:
                scores = processor(out_ids, scores)
            ids = scores.argmax(-1, keepdim=True)
            out_ids = torch.cat([out_ids, ids], dim=1)
            mask = torch.cat([mask, torch.ones_like(ids)], dim=1)
            position = position[:, -1:] + 1
            kwargs = {"past_key_values": out.past_key_values}
        return out_ids[:, batch["input_ids"].shape[1] :].cpu()

    @torch.no_grad()
    def answer(self, images: torch.Tensor, question: str, max_new_tokens: int = 8) -> str:
        """Free-text greedy answer to ``question`` about (1, n_cameras, 3, H, W) images."""
        batch = self.batch([self.prompt_ids(question, instruction=False)], [[]])
        ids = self.greedy_decode(batch, images, None, max_new_tokens)[0].tolist()
        eos = self.tokenizer.eos_token_id
        return self.tokenizer.decode(ids[: ids.index(eos)] if eos in ids else ids).strip()


def _image_tokens_per_camera(vlm: nn.Module, size: int) -> int:
    """How many embeddings the projector gives per image (one dummy pass; depends on the
    vision tower, the patch size and the feature-select strategy)."""
    cfg = vlm.config
    with torch.no_grad():
        out = vlm.model.get_image_features(
            pixel_values=torch.zeros(1, 3, size, size, dtype=vlm.dtype),
            vision_feature_layer=cfg.vision_feature_layer,
            vision_feature_select_strategy=cfg.vision_feature_select_strategy,
        )
    features = out.pooler_output if hasattr(out, "pooler_output") else out
    return int(features[0].shape[0])
