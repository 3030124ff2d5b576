"""RT-2 (Brohan et al. 2023), whole in one folder: a Hugging Face vision-language model
(``model``; the families it loads in ``backbones``, their tiny offline twins in ``tiny``)
that answers with action tokens (``vocab``), decoded one by one or all at once over the
layout of ``sequences``; adapter-only LoRA (``lora``) and the checkpoint files
(``checkpoint``); the offline text tokenizer of the from-scratch model (``text``); the
closed-loop policy (``policy``) and its training side (``trainer``, with ``scene_vqa``
co-training data)."""

from vla.policies.rt2.policy import RT2Policy

__all__ = ["RT2Policy"]
