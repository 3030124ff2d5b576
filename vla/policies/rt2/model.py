"""RT-2 style VLA (Brohan et al. 2023): a Hugging Face vision-language model that speaks actions.

The backbone is any supported image-text-to-text model (``vla.policies.rt2.backbones``:
LLaVA, Idefics3/SmolVLM, PaliGemma, Qwen2-VL/Qwen2.5-VL) with its processor. Both cameras go
in as two images of one user turn, built by the processor's chat template::

    <user> <image tokens (front)> <image tokens (wrist)> What action should the robot take
    to {instruction}? <assistant>

and the answer is the 11 action tokens of ``vla.policies.rt2.vocab`` (added to the
vocabulary, with the embeddings resized). Training is next-token cross-entropy on the
answer only; co-training answers are words instead. Two ways to decode the action:

* ``autoregressive`` (RT-2): 11 greedy steps with a ``DynamicCache``, under
  ``ActionLogitsProcessor`` so each position can only produce a valid token.
* ``parallel`` (OpenVLA-OFT): 11 slot tokens after the prompt attend to the prompt and to
  each other (``vla.policies.rt2.sequences``) and are all predicted in one forward pass,
  under the same constraint. A model trained with ``decoding="parallel"`` learns both
  objectives at once, so one checkpoint decodes either way.

``RT2Config.backbone = None`` builds the small from-scratch LLaVA of ``vla.policies.rt2.tiny``
(trains on a CPU); a folder loads a pretrained VLM and fine-tunes it, fully or with LoRA.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from transformers import DynamicCache, ProcessorMixin

from vla.policies.rt2.backbones import Family, config_sha256, family_of, load_backbone
from vla.policies.rt2.lora import apply_lora
from vla.policies.rt2.sequences import IGNORE, Sequences, extend, next_positions
from vla.policies.rt2.text import PROMPT
from vla.policies.rt2.tiny import small_llava
from vla.policies.rt2.vocab import SLOT_TOKEN, ActionLogitsProcessor, ActionVocab, add_action_tokens
from vla.tokenizer import N_ACTION_DIMS

DECODINGS = ("autoregressive", "parallel")
VISION_KEYS = ("pixel_values", "pixel_attention_mask", "image_grid_thw")


@dataclass(frozen=True)
class RT2Config:
    """Hyper-parameters (JSON round-trip via ``to_dict``/``from_dict``).

    The size fields describe the from-scratch backbone and are ignored with ``backbone`` set.
    """

    backbone: str | None = None  # local Hugging Face VLM folder; None: small, from scratch
    image_size: int = 64  # camera side the policy is fed (the processor resizes it)
    n_cameras: int = 2  # front, wrist: two images per prompt
    patch_size: int = 16  # vision tower patches: (64 / 16) ** 2 = 16 tokens per camera
    vision_dim: int = 128
    vision_layers: int = 2
    text_dim: int = 128
    text_layers: int = 4
    n_heads: int = 4
    n_bins: int = 256
    lora: bool = False  # adapter-only LoRA on the language model (needs a backbone)
    lora_rank: int = 16
    # "parallel": also learn 11 slots decoded in one pass (and still decode autoregressively);
    # "autoregressive": RT-2's 11 cached steps only
    decoding: str = "parallel"

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
        if self.decoding not in DECODINGS:
            raise ValueError(
                f"RT2Config.decoding must be one of {DECODINGS}, got {self.decoding!r}"
            )
        if self.lora and self.backbone is None:
            raise ValueError("model.lora needs model.backbone: a pretrained VLM folder to adapt")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RT2Config:
        """Inverse of ``to_dict``; unknown keys raise ValueError, missing keys use defaults."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"RT2Config.from_dict: unknown keys {sorted(unknown)}")
        return cls(**data)


class RT2(nn.Module):
    """A VLA: camera images + instruction -> 11 action tokens (or a text answer).

    Build with ``RT2.build(config)``. ``vlm`` is the model that trains (a ``PeftModel`` with
    LoRA), ``hf`` the Hugging Face model inside it, ``processor`` its processor whose
    tokenizer includes the action tokens, ``base`` the backbone folder and its config hash.
    """

    def __init__(
        self,
        config: RT2Config,
        vlm: nn.Module,
        processor: ProcessorMixin,
        base: dict[str, str] | None = None,
        adapter: bool | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.processor = processor
        self.tokenizer = tokenizer = processor.tokenizer
        self.family: Family = family_of(vlm.config.model_type)
        self.base = base
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:  # padding needs one; it is always masked
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        add_action_tokens(tokenizer, config.n_bins)
        tokenizer.add_tokens([SLOT_TOKEN], special_tokens=True)
        if vlm.get_input_embeddings().weight.shape[0] < len(tokenizer):
            # pretrained: new rows start at the mean of the old ones; scratch: random anyway
            vlm.resize_token_embeddings(len(tokenizer), mean_resizing=base is not None)
        self.slot_id = tokenizer.convert_tokens_to_ids(SLOT_TOKEN)
        vocab_size = vlm.get_output_embeddings().weight.shape[0]
        self.vocab = ActionVocab.from_tokenizer(tokenizer, vocab_size, config.n_bins)
        new_ids = [*self.vocab.bin_ids.tolist(), *self.vocab.mode_ids.tolist(), self.slot_id]
        use_lora = config.lora if adapter is None else adapter
        self.vlm = apply_lora(vlm, self.family, config.lora_rank, new_ids) if use_lora else vlm

    @classmethod
    def build(cls, config: RT2Config) -> RT2:
        """From scratch (``config.backbone`` None) or from the pretrained backbone folder."""
        if config.backbone is None:
            sizes = ("image_size", "patch_size", "vision_dim", "vision_layers", "text_dim")
            sizes += ("text_layers", "n_heads")
            vlm, processor = small_llava(**{k: getattr(config, k) for k in sizes})
            return cls(config, vlm, processor)
        vlm, processor, _ = load_backbone(config.backbone)
        base = {"path": str(config.backbone), "config_sha256": config_sha256(config.backbone)}
        return cls(config, vlm, processor, base)

    @property
    def hf(self) -> nn.Module:
        """The Hugging Face model (inside the ``PeftModel`` with LoRA)."""
        return self.vlm.get_base_model() if hasattr(self.vlm, "get_base_model") else self.vlm

    def num_params(self, trainable: bool = False) -> int:
        return sum(p.numel() for p in self.vlm.parameters() if p.requires_grad or not trainable)

    @property
    def device(self) -> torch.device:
        return next(self.hf.parameters()).device

    # --- inputs -----------------------------------------------------------------------------

    def prompts(
        self, images: torch.Tensor, questions: list[str]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Processor inputs of B prompts: (ids (B, P), valid (B, P), positions, vision inputs).

        Args:
            images: (B, n_cameras, 3, H, W) uint8, one image per camera.
            questions: B question texts (``PROMPT`` filled in for robot steps).
        """
        texts = [self.family.prompt(self.processor, q, images.shape[1]) for q in questions]
        frames = images.permute(0, 1, 3, 4, 2).cpu().numpy()  # processors take (H, W, 3)
        batch = self.processor(
            text=texts,
            images=[list(np.ascontiguousarray(row)) for row in frames],
            padding=True,
            return_tensors="pt",
        )
        ids, valid = batch["input_ids"], batch["attention_mask"].bool()
        dtype = self.hf.dtype
        vision = {k: batch[k] for k in VISION_KEYS if k in batch}
        vision = {k: v.to(dtype) if v.is_floating_point() else v for k, v in vision.items()}
        return ids, valid, self.prompt_positions(ids, valid, vision), vision

    def prompt_positions(
        self, ids: torch.Tensor, valid: torch.Tensor, vision: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        """(B, P) positions counting real tokens only, or the model's (3, B, P) 3D ones."""
        if self.family.mrope:
            image_id = self.hf.config.image_token_id
            positions, _ = self.hf.model.get_rope_index(
                ids,
                mm_token_type_ids=(ids == image_id).int(),
                image_grid_thw=vision["image_grid_thw"],
                attention_mask=valid.long(),
            )
            return positions
        return (valid.long().cumsum(-1) - 1).clamp(min=0) + self.family.position_offset

    def sequences(
        self,
        images: torch.Tensor,
        questions: list[str],
        answers: list[list[int]],
        n_slots: int = 0,
        action_rows: list[bool] | None = None,
    ) -> tuple[Sequences, dict[str, torch.Tensor]]:
        """Prompt + answer (+ slot) rows and the vision inputs, on the model's device.
        ``action_rows`` marks rows whose answer is an action (their slots get its labels)."""
        ids, valid, positions, vision = self.prompts(images, questions)
        pad, prefix_lm = self.tokenizer.pad_token_id, self.family.prefix_lm
        seq = extend(
            ids, valid, positions, answers, n_slots, self.slot_id, pad, prefix_lm, action_rows
        )
        device = self.device
        return seq.to(device), {k: v.to(device) for k, v in vision.items()}

    def prompt_text(self, instruction: str) -> str:
        return PROMPT.format(instruction=instruction)

    def answer_ids(self, answer: str) -> list[int]:
        """Token ids of a text answer (co-training), ending with eos."""
        ids = self.tokenizer(answer, add_special_tokens=False).input_ids
        return ids + [self.tokenizer.eos_token_id]

    # --- training -----------------------------------------------------------------------------

    def forward(
        self, seq: Sequences, vision: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits that predict the answer tokens (B, A, V) and the slot tokens (B, S, V)."""
        keep = seq.n_answer + seq.n_slots + 1  # the prompt's last column predicts answer 0
        out = self.vlm(
            input_ids=seq.input_ids,
            attention_mask=seq.attention_mask(),
            position_ids=seq.positions,
            logits_to_keep=keep,
            use_cache=False,
            **vision,
        )
        logits = out.logits
        return logits[:, : seq.n_answer], logits[:, seq.n_answer + 1 :]

    @staticmethod
    def loss(
        answer_logits: torch.Tensor, slot_logits: torch.Tensor, seq: Sequences
    ) -> torch.Tensor:
        """Next-token cross-entropy over the answers, plus the slots' when there are any."""
        loss = F.cross_entropy(
            answer_logits.flatten(0, 1).float(), seq.labels.flatten(), ignore_index=IGNORE
        )
        if seq.n_slots:
            labels = seq.slot_labels.flatten()
            loss = loss + F.cross_entropy(
                slot_logits.flatten(0, 1).float(), labels, ignore_index=IGNORE
            )
        return loss

    # --- inference ----------------------------------------------------------------------------

    @torch.no_grad()
    def generate_action_ids(
        self, images: torch.Tensor, instructions: list[str], decoding: str | None = None
    ) -> torch.Tensor:
        """Greedy, constrained action ids (B, 11) on the CPU.

        Args:
            images: (B, n_cameras, 3, H, W) uint8.
            instructions: B instruction strings.
            decoding: "autoregressive" or "parallel"; default: the config's.
        """
        decoding = decoding or self.config.decoding
        if decoding not in DECODINGS:
            raise ValueError(f"decoding must be one of {DECODINGS}, got {decoding!r}")
        questions = [self.prompt_text(t) for t in instructions]
        if decoding == "parallel":
            return self.parallel_decode(images, questions)
        seq, vision = self.sequences(images, questions, [[] for _ in questions])
        processor = ActionLogitsProcessor(self.vocab, prompt_length=seq.n_prompt)
        return self.greedy_decode(seq, vision, processor, N_ACTION_DIMS)

    def parallel_decode(self, images: torch.Tensor, questions: list[str]) -> torch.Tensor:
        """All 11 action ids from one forward pass over prompt + slots (constrained argmax)."""
        if self.config.decoding != "parallel":
            raise ValueError(
                "this RT-2 was trained for autoregressive decoding only; train with "
                "model.decoding=parallel to decode in parallel"
            )
        seq, vision = self.sequences(images, questions, [[] for _ in questions], N_ACTION_DIMS)
        _, logits = self(seq, vision)
        processor = ActionLogitsProcessor(self.vocab, prompt_length=0)
        return processor.constrain_all(logits.float()).argmax(-1).cpu()

    def greedy_decode(
        self,
        seq: Sequences,
        vision: dict[str, torch.Tensor],
        processor: ActionLogitsProcessor | None,
        n_tokens: int,
    ) -> torch.Tensor:
        """``n_tokens`` greedy tokens after the prompts of ``seq``: one prefill with the
        images into a ``DynamicCache``, then one cached step per token. A plain loop rather
        than ``generate()``: RT-2's own masks and positions go in as they are. Returns
        (B, n_tokens) ids on the CPU."""
        cache = DynamicCache(config=self.hf.config.get_text_config(decoder=True))
        ids, valid, positions = seq.input_ids, seq.valid, seq.positions
        mask = seq.attention_mask()
        step_position = next_positions(positions)
        generated = seq.input_ids
        kwargs = dict(vision)
        for _ in range(n_tokens):
            out = self.vlm(
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions,
                cache=cache,
                use_cache=True,
                logits_to_keep=1,
                **kwargs,
            )
            scores = out.logits[:, -1].float()
            if processor is not None:
                scores = processor(generated, scores)
            ids = scores.argmax(-1, keepdim=True)
            generated = torch.cat([generated, ids], dim=1)
            valid = torch.cat([valid, torch.ones_like(ids, dtype=torch.bool)], dim=1)
            mask = valid[:, None, None, :]
            positions = step_position[:, None]
            if seq.positions.dim() == 3:
                positions = positions.expand(3, -1, -1)
            step_position = step_position + 1
            kwargs = {}
        return generated[:, seq.n_prompt :].cpu()

    @torch.no_grad()
    def answer(self, images: torch.Tensor, question: str, max_new_tokens: int = 8) -> str:
        """Free-text greedy answer to ``question`` about (1, n_cameras, 3, H, W) images."""
        seq, vision = self.sequences(images, [question], [[]])
        ids = self.greedy_decode(seq, vision, None, max_new_tokens)[0].tolist()
        eos = self.tokenizer.eos_token_id
        return self.tokenizer.decode(ids[: ids.index(eos)] if eos in ids else ids).strip()
